/**
 * The forwarder: reads the events stream with a consumer group (`notify`) and adds one
 * notification job per event to notify (see NOTIFY_EVENT_TYPES), then acknowledges what it
 * read. Every `worker` process runs one; the group hands each entry to one of them.
 *
 * At least once, delivered once: a job's id is derived from its entry's id, so an entry added
 * twice (a forwarder that died between add and ack, whose entries another one claims after
 * `claimIdleMs`; or one slow enough to be claimed from) is still one job. The action worker
 * never waits for any of this: it only writes its events to the stream.
 *
 * A new group starts at the end of the stream (`$`): turning NOTIFY_URL on does not send the
 * history already on the stream; from then on the group remembers where it stands, so events
 * written while every worker was down are sent when one comes back (while the stream, capped
 * by EVENTS_MAXLEN, still holds them).
 *
 * An entry that cannot be read (an event type from a newer version, an entry trimmed while
 * pending) is acknowledged and skipped with a warning, so it never blocks the group.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import type { StreamEvent } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { decodeEntry } from '../store/event-codec.js';
import { createEventConsumer } from '../store/events.js';
import type { Keys } from '../store/keys.js';
import { cloudEventBody, isNotifyEvent, toCloudEvent } from './cloudevent.js';
import { notifyJobId, notifyJobOptions, type NotifyQueue } from './delivery.js';

/** The consumer group of the failure-webhook forwarders. */
export const NOTIFY_GROUP = 'notify';

type Entry = [id: string, fields: string[] | null];
/** A stream entry as read: its event, or undefined when it cannot be read. */
export interface ReadEntry {
  id: string;
  event: StreamEvent | undefined;
}

export interface ForwarderOptions {
  redis: Redis;
  keys: Keys;
  queue: NotifyQueue;
  logger: Logger;
  attempts: number;
  backoffBaseMs: number;
  /** This forwarder's name in the group. @defaultValue `<host>-<pid>-<random>` */
  consumer?: string;
  /** Entries another forwarder left unacknowledged this long are taken over. @defaultValue 60 s */
  claimIdleMs?: number;
  /** Block time of one read. @defaultValue 1 s */
  blockMs?: number;
}

export interface Forwarder {
  consumer: string;
  close(): Promise<void>;
}

const BATCH = 100;
/** Consumers (of dead processes) idle this long with nothing pending are removed. */
const FORGET_IDLE_MS = 86_400_000;

/** Decode entries one by one: one unreadable entry must not hide the others. */
function readEntries(entries: Entry[], log: Logger): ReadEntry[] {
  return entries.map(([id, fields]) => {
    if (fields === null) return { id, event: undefined }; // trimmed while pending
    try {
      return { id, event: decodeEntry(id, fields) };
    } catch (err) {
      log.warn({ stream_id: id, err: String(err) }, 'unreadable event skipped');
      return { id, event: undefined };
    }
  });
}

/**
 * Add the jobs of the entries to notify (a job that exists already is left as it is). Does not
 * acknowledge: the caller acks once this resolved.
 */
export async function forwardEntries(
  queue: NotifyQueue,
  prefix: string,
  entries: readonly ReadEntry[],
  opts: { attempts: number; backoffBaseMs: number },
): Promise<number> {
  const jobs = entries.flatMap(({ id, event }) => {
    if (!event || !isNotifyEvent(event)) return [];
    const cloudEvent = toCloudEvent({ ...event, id }, prefix);
    return [
      {
        name: event.type,
        data: {
          id: cloudEvent.id,
          type: event.type,
          subject: cloudEvent.subject,
          body: cloudEventBody(cloudEvent),
        },
        opts: { ...notifyJobOptions(opts.attempts, opts.backoffBaseMs), jobId: notifyJobId(id) },
      },
    ];
  });
  if (jobs.length > 0) await queue.addBulk(jobs);
  return jobs.length;
}

/**
 * Start forwarding; the group is created (at the stream's end) before this resolves, so every
 * event written afterwards is forwarded. `redis` is the forwarder's own connection (blocking
 * reads hold it); the caller closes it after {@link Forwarder.close}.
 */
export async function startForwarder(options: ForwarderOptions): Promise<Forwarder> {
  const { redis, keys, queue } = options;
  const consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = options.logger.child({ component: 'notify-forwarder', consumer });
  const group = createEventConsumer(redis, keys, { group: NOTIFY_GROUP, consumer, startId: '$' });
  await group.ensureGroup();
  const claimIdleMs = options.claimIdleMs ?? 60_000;
  const blockMs = options.blockMs ?? 1_000;
  const stop = new AbortController();
  const stopping = () => stop.signal.aborted;

  const xreadgroup = async (extra: (string | number)[], from: string): Promise<ReadEntry[]> => {
    const reply = (await redis.call(
      'XREADGROUP',
      'GROUP',
      NOTIFY_GROUP,
      consumer,
      'COUNT',
      BATCH,
      ...extra,
      'STREAMS',
      keys.events,
      from,
    )) as [string, Entry[]][] | null;
    return readEntries(reply?.[0]?.[1] ?? [], log);
  };
  /** Entries of dead forwarders; Redis 7 drops the trimmed ones from the group itself. */
  const claim = async (): Promise<{ entries: ReadEntry[]; more: boolean }> => {
    const reply = (await redis.call(
      'XAUTOCLAIM',
      keys.events,
      NOTIFY_GROUP,
      consumer,
      claimIdleMs,
      '0-0',
      'COUNT',
      BATCH,
    )) as [string, (Entry | null)[]];
    const entries = reply[1].filter((e): e is Entry => e !== null);
    if (entries.length > 0)
      log.info({ entries: entries.length }, 'took over unacknowledged events');
    return { entries: readEntries(entries, log), more: reply[0] !== '0-0' };
  };
  /** Forget consumers of processes long gone (nothing pending, idle a day). */
  const forgetDead = async () => {
    const info = (await redis.call('XINFO', 'CONSUMERS', keys.events, NOTIFY_GROUP)) as unknown[][];
    for (const fields of info) {
      const c: Record<string, unknown> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) c[String(fields[i])] = fields[i + 1];
      if (c.name !== consumer && c.pending === 0 && Number(c.idle) > FORGET_IDLE_MS) {
        await redis.call('XGROUP', 'DELCONSUMER', keys.events, NOTIFY_GROUP, String(c.name));
      }
    }
  };

  const handle = async (entries: ReadEntry[]) => {
    if (entries.length === 0) return;
    const added = await forwardEntries(queue, keys.prefix, entries, options);
    await group.ack(entries.map((e) => e.id));
    if (added > 0) log.debug({ added, read: entries.length }, 'events forwarded');
  };

  const loop = async () => {
    // Own pending entries first: read but not acknowledged (a failed add, a restart).
    let ownPending = true;
    let nextClaim = 0;
    while (!stopping()) {
      try {
        if (ownPending) {
          const entries = await xreadgroup([], '0');
          await handle(entries);
          ownPending = entries.length === BATCH;
        } else if (Date.now() >= nextClaim) {
          const { entries, more } = await claim();
          await handle(entries);
          if (!more) {
            nextClaim = Date.now() + Math.max(1_000, Math.min(claimIdleMs, 30_000));
            await forgetDead();
          }
        } else {
          await handle(await xreadgroup(['BLOCK', blockMs], '>'));
        }
      } catch (err) {
        if (stopping()) break;
        log.warn({ err: String(err) }, 'forwarding events failed; trying again in 1 s');
        ownPending = true;
        await sleep(1_000, undefined, { signal: stop.signal }).catch(() => undefined);
        // The stream (and its groups) deleted meanwhile: the group starts again at its end.
        if (String(err).includes('NOGROUP')) await group.ensureGroup().catch(() => undefined);
      }
    }
  };
  const running = loop();
  log.info('forwarding failure events to the notifications queue');

  return {
    consumer,
    async close() {
      stop.abort();
      // A read blocks for blockMs at most; a Redis that is gone would hold it forever.
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        running.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => {
            resolve(false);
          }, blockMs + 2_000);
        }),
      ]);
      clearTimeout(timer);
      if (!done) {
        redis.disconnect();
        await running;
      }
    },
  };
}
