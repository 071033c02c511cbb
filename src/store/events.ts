/**
 * Reading the events stream: recent history, a live tail, and consumer groups for library
 * users who need every event processed at least once across restarts.
 */
import { type EventType, type StreamEvent } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { decodeEntry } from './event-codec.js';
import type { Keys } from './keys.js';

type Entry = [id: string, fields: string[]];

export interface RecentOptions {
  type?: EventType;
  /** Most recent N matching events. @defaultValue 100 */
  limit?: number;
}

/** The most recent matching events, oldest first. */
export async function readRecentEvents(
  redis: Redis,
  keys: Keys,
  options: RecentOptions = {},
): Promise<StreamEvent[]> {
  return (await scanRecentEvents(redis, keys, options)).events.reverse();
}

/**
 * The most recent matching events, newest first, reading at most `scan` entries of the
 * stream (a rare type need not cost a read of the whole stream); `scanned` says how many it
 * read.
 */
export async function scanRecentEvents(
  redis: Redis,
  keys: Keys,
  options: RecentOptions & { scan?: number } = {},
): Promise<{ events: StreamEvent[]; scanned: number }> {
  const limit = Math.max(1, options.limit ?? 100);
  const scan = options.scan ?? Infinity;
  const events: StreamEvent[] = [];
  let scanned = 0;
  let end = '+';
  const batch = Math.max(limit, 200);
  while (scanned < scan) {
    const count = Math.min(batch, scan - scanned);
    const entries = (await redis.xrevrange(keys.events, end, '-', 'COUNT', count)) as Entry[];
    for (const [id, fields] of entries) {
      scanned++;
      const event = decodeEntry(id, fields);
      if (!options.type || event.type === options.type) events.push(event);
      if (events.length >= limit) return { events, scanned };
    }
    const last = entries.at(-1);
    if (entries.length < count || !last) break;
    end = `(${last[0]}`;
  }
  return { events, scanned };
}

export interface FollowOptions {
  type?: EventType;
  /** Stream id to start after; `$` = only new events. @defaultValue '$' */
  after?: string;
  /** Block time per read. @defaultValue 5000 */
  blockMs?: number;
  signal?: AbortSignal;
}

/**
 * A live tail of the stream. Needs its own connection: XREAD BLOCK holds it.
 * Ends when `signal` aborts.
 */
export async function* followEvents(
  redis: Redis,
  keys: Keys,
  options: FollowOptions = {},
): AsyncGenerator<StreamEvent> {
  let after = options.after ?? '$';
  if (after === '$') {
    // Resolve `$` once, so events arriving between two reads are not skipped.
    const last = (await redis.xrevrange(keys.events, '+', '-', 'COUNT', 1)) as Entry[];
    after = last[0]?.[0] ?? '0-0';
  }
  while (!options.signal?.aborted) {
    const reply = await redis.xread(
      'COUNT',
      500,
      'BLOCK',
      options.blockMs ?? 5000,
      'STREAMS',
      keys.events,
      after,
    );
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        after = id;
        const event = decodeEntry(id, fields);
        if (!options.type || event.type === options.type) yield event;
      }
    }
  }
}

export interface EventConsumerOptions {
  group: string;
  consumer: string;
  /** Where a new group starts: `0` = the whole retained history, `$` = new events only. @defaultValue '$' */
  startId?: string;
}

export interface EventConsumer {
  /** Create the group if needed (idempotent). */
  ensureGroup(): Promise<void>;
  /** New events for this consumer; call {@link EventConsumer.ack} once handled. */
  read(options?: { count?: number; blockMs?: number }): Promise<StreamEvent[]>;
  /** Events delivered to this consumer but not yet acknowledged (after a crash). */
  pending(count?: number): Promise<StreamEvent[]>;
  /** Take over events another consumer left unacknowledged for `minIdleMs`. */
  claimStale(minIdleMs: number, count?: number): Promise<StreamEvent[]>;
  ack(ids: readonly string[]): Promise<number>;
}

/** At-least-once delivery with Redis consumer groups. Give blocking reads their own connection. */
export function createEventConsumer(
  redis: Redis,
  keys: Keys,
  options: EventConsumerOptions,
): EventConsumer {
  const { group, consumer } = options;
  const decodeAll = (entries: Entry[]) => entries.map(([id, fields]) => decodeEntry(id, fields));
  return {
    async ensureGroup() {
      try {
        await redis.xgroup('CREATE', keys.events, group, options.startId ?? '$', 'MKSTREAM');
      } catch (err) {
        if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
      }
    },
    async read({ count = 100, blockMs } = {}) {
      const args: (string | number)[] = ['GROUP', group, consumer, 'COUNT', count];
      if (blockMs !== undefined) args.push('BLOCK', blockMs);
      const reply = (await redis.call('XREADGROUP', ...args, 'STREAMS', keys.events, '>')) as
        [string, Entry[]][] | null;
      return decodeAll(reply?.[0]?.[1] ?? []);
    },
    async pending(count = 100) {
      const reply = (await redis.call(
        'XREADGROUP',
        'GROUP',
        group,
        consumer,
        'COUNT',
        count,
        'STREAMS',
        keys.events,
        '0',
      )) as [string, Entry[]][] | null;
      return decodeAll(reply?.[0]?.[1] ?? []);
    },
    async claimStale(minIdleMs, count = 100) {
      const reply = (await redis.call(
        'XAUTOCLAIM',
        keys.events,
        group,
        consumer,
        minIdleMs,
        '0-0',
        'COUNT',
        count,
      )) as [string, (Entry | null)[]];
      return decodeAll(reply[1].filter((e): e is Entry => e !== null));
    },
    async ack(ids) {
      if (ids.length === 0) return 0;
      return redis.xack(keys.events, group, ...ids);
    },
  };
}
