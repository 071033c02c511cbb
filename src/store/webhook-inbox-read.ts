/**
 * Consuming the webhook inbox (see webhook-inbox-trim.ts for the inbox's rule): a consumer
 * group. An entry stays pending until acknowledged; one left pending longer than `claimIdleMs`
 * (its processor crashed) is claimed (XAUTOCLAIM) by the next reader and processed again:
 * at-least-once. Each entry says how often it was delivered.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';

export interface InboxEntry {
  /** Stream entry id: pass it to {@link ackInbox}. */
  id: string;
  type: string;
  /** The webhook's raw JSON body. */
  body: string;
  /** Taken over from a consumer that did not acknowledge it in time (a retry). */
  claimed: boolean;
  /** Times the entry was delivered to a reader, this one included (1 for a first read). */
  deliveries: number;
}

export interface ReadInboxOptions {
  group: string;
  /** This reader's name in the group (unique per process). */
  consumer: string;
  /** Most entries per read. @defaultValue 100 */
  count?: number;
  /** Wait this long for new entries when there are none (XREADGROUP BLOCK). @defaultValue no wait */
  blockMs?: number;
  /**
   * Entries pending (read, not acknowledged) longer than this are claimed and returned first.
   * Longer than processing one batch can take. @defaultValue 30000
   */
  claimIdleMs?: number;
}

type RawEntry = [id: string, fields: string[]];

/**
 * The next entries for this consumer: those another reader left unacknowledged for
 * `claimIdleMs`, then new ones (waiting up to `blockMs` only when nothing was claimed).
 * Creates the group (from the start of the stream) and the stream when missing. A blocking
 * read holds its connection: give it one of its own.
 */
export async function readInbox(
  redis: Redis,
  keys: Keys,
  options: ReadInboxOptions,
): Promise<InboxEntry[]> {
  const { group, consumer } = options;
  const count = options.count ?? 100;
  const claimed = await withGroup(redis, keys, group, () =>
    redis.call(
      'XAUTOCLAIM',
      keys.webhookInbox,
      group,
      consumer,
      options.claimIdleMs ?? 30_000,
      '0-0',
      'COUNT',
      count,
    ),
  );
  // [next cursor, entries, deleted ids (trimmed away while pending, which only an older
  // version's MAXLEN did: XAUTOCLAIM drops them)]
  const taken = Array.isArray(claimed) ? entriesOf(claimed[1], true) : [];
  if (taken.length === 0) return readNew(redis, keys, group, consumer, count, options.blockMs);
  await readDeliveries(redis, keys, group, consumer, taken);
  // New entries come along (without waiting), so entries that keep failing and are claimed
  // again and again never keep the new ones out.
  if (taken.length >= count) return taken;
  return [...taken, ...(await readNew(redis, keys, group, consumer, count - taken.length))];
}

/** Entries never delivered to the group, up to `count`, waiting up to `blockMs` if given. */
async function readNew(
  redis: Redis,
  keys: Keys,
  group: string,
  consumer: string,
  count: number,
  blockMs?: number,
): Promise<InboxEntry[]> {
  const args: (string | number)[] = ['GROUP', group, consumer, 'COUNT', count];
  if (blockMs !== undefined) args.push('BLOCK', blockMs);
  const reply = await redis.call('XREADGROUP', ...args, 'STREAMS', keys.webhookInbox, '>');
  // [[stream, entries]] or null after a block without news
  const streams = Array.isArray(reply) ? (reply as unknown[]) : [];
  const first = streams[0];
  return Array.isArray(first) ? entriesOf(first[1], false) : [];
}

/** Fill in the delivery counts of entries just claimed by `consumer` (one XPENDING). */
async function readDeliveries(
  redis: Redis,
  keys: Keys,
  group: string,
  consumer: string,
  entries: InboxEntry[],
): Promise<void> {
  const first = entries[0]?.id ?? '-';
  const last = entries[entries.length - 1]?.id ?? '+';
  // [[id, consumer, idle ms, deliveries], ...]
  const pending = (await redis.call(
    'XPENDING',
    keys.webhookInbox,
    group,
    first,
    last,
    entries.length,
    consumer,
  )) as [string, string, number, number | string][];
  const counts = new Map(pending.map(([id, , , n]) => [id, Number(n)]));
  for (const e of entries) e.deliveries = counts.get(e.id) ?? e.deliveries;
}

/** Acknowledge processed entries: they are not delivered again. @returns how many were pending. */
export async function ackInbox(
  redis: Redis,
  keys: Keys,
  group: string,
  ids: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  return redis.xack(keys.webhookInbox, group, ...ids);
}

/** Run `command`; when the group is missing, create it (and the stream) and run it again. */
async function withGroup(
  redis: Redis,
  keys: Keys,
  group: string,
  command: () => Promise<unknown>,
): Promise<unknown> {
  try {
    return await command();
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith('NOGROUP'))) throw err;
  }
  try {
    // From the start: events stored before the first reader came are processed too.
    await redis.xgroup('CREATE', keys.webhookInbox, group, '0', 'MKSTREAM');
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
  }
  return command();
}

function entriesOf(raw: unknown, claimed: boolean): InboxEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: InboxEntry[] = [];
  for (const entry of raw as (RawEntry | null)[]) {
    if (!Array.isArray(entry)) continue;
    const [id, fields] = entry;
    let type = '';
    let body = '';
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (fields[i] === 'type') type = fields[i + 1] ?? '';
      else if (fields[i] === 'body') body = fields[i + 1] ?? '';
    }
    out.push({ id, type, body, claimed, deliveries: 1 });
  }
  return out;
}

/**
 * Every entry the inbox still holds, oldest first, read-only (XRANGE in pages: no consumer
 * group, nothing claimed or acknowledged), with when it arrived (its stream id's time).
 */
export async function* rangeInbox(
  redis: Redis,
  keys: Keys,
  pageSize = 1000,
): AsyncGenerator<{ id: string; body: string; arrivedMs: number }> {
  let start = '-';
  for (;;) {
    const page = (await redis.xrange(
      keys.webhookInbox,
      start,
      '+',
      'COUNT',
      pageSize,
    )) as RawEntry[];
    for (const e of entriesOf(page, false)) {
      yield { id: e.id, body: e.body, arrivedMs: Number(e.id.split('-')[0]) };
    }
    const last = page.at(-1);
    if (page.length < pageSize || !last) return;
    start = `(${last[0]}`;
  }
}
