/**
 * The webhook inbox: a Redis Stream of accepted Sendmux webhook events, each entry the raw
 * body (`body`) and its type (`type`), waiting to be processed after the HTTP answer.
 *
 * - {@link appendToInbox}: one Lua step marks the event id seen (expires) and appends the entry,
 *   so a crash can neither lose an accepted event nor store a retried delivery twice.
 * - {@link readInbox} / {@link ackInbox}: a consumer group. An entry stays pending until
 *   acknowledged; one left pending longer than `claimIdleMs` (its processor crashed) is claimed
 *   (XAUTOCLAIM) by the next reader and processed again: at-least-once. Each entry says how
 *   often it was delivered.
 * - {@link deadLetterInbox}: an entry delivered too often without being processed (a record its
 *   processing always fails on) is moved, body and all, to the stream `webhook-dead` (capped) and
 *   acknowledged in one step, so it neither retries for ever nor is trimmed away unseen.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

/**
 * KEYS: seen mark, inbox. ARGV: ttl s, maxlen, type, body.
 * Returns the entry's id, or false (nil) when the id was seen already: nothing is written.
 */
const appendScript = defineScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'type', ARGV[3], 'body', ARGV[4])
redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
return id
`);

export interface AppendOptions {
  /** How long the event id is remembered (s). */
  dedupeTtlS: number;
  /** Approximate cap of the stream (MAXLEN ~). */
  maxLen: number;
}

/**
 * Store one event unless its id was seen within the dedupe window.
 * @returns the entry id, or `undefined` for a duplicate (nothing stored).
 */
export async function appendToInbox(
  redis: Redis,
  keys: Keys,
  event: { id: string; type: string; body: Buffer | string },
  options: AppendOptions,
): Promise<string | undefined> {
  const reply = await appendScript(
    redis,
    [keys.webhookSeen(event.id), keys.webhookInbox],
    // ioredis sends a Buffer as is: the stored body is byte for byte the signed one.
    [options.dedupeTtlS, options.maxLen, event.type, event.body],
  );
  return typeof reply === 'string' ? reply : undefined;
}

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
  // [next cursor, entries, deleted ids (trimmed away while pending: XAUTOCLAIM drops them)]
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

/** Dead letters kept (MAXLEN ~). */
export const DEAD_LETTERS_KEPT = 1_000;

// KEYS: dead letters, inbox. ARGV: group, entry id, type, body, deliveries, error, now ms.
// Only an entry still pending is moved (another reader may have acknowledged it meanwhile).
const deadLetterScript = defineScript(`
if redis.call('XACK', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ${DEAD_LETTERS_KEPT}, '*', 'inbox_id', ARGV[2],
  'type', ARGV[3], 'body', ARGV[4], 'deliveries', ARGV[5], 'error', ARGV[6], 'at', ARGV[7])
return 1
`);

/**
 * Give up on an entry: keep it (body, deliveries, the last error) in the dead letters and
 * acknowledge it, in one step. @returns false, writing nothing, if it was no longer pending.
 */
export async function deadLetterInbox(
  redis: Redis,
  keys: Keys,
  group: string,
  entry: InboxEntry,
  error: string,
  now = Date.now(),
): Promise<boolean> {
  const moved = await deadLetterScript(
    redis,
    [keys.webhookDead, keys.webhookInbox],
    [group, entry.id, entry.type, entry.body, entry.deliveries, error, now],
  );
  return moved === 1;
}

export interface DeadLetter {
  inbox_id: string;
  type: string;
  deliveries: number;
  error: string;
  at: string;
  /** The webhook's raw JSON body, as it was signed. */
  body: string;
}

/** The latest dead letters, newest first. */
export async function readDeadLetters(redis: Redis, keys: Keys, limit = 20): Promise<DeadLetter[]> {
  const raw = (await redis.xrevrange(keys.webhookDead, '+', '-', 'COUNT', limit)) as [
    string,
    string[],
  ][];
  return raw.map(([, fields]) => {
    const f = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] ?? '', fields[i + 1] ?? '');
    const at = Number(f.get('at'));
    return {
      inbox_id: f.get('inbox_id') ?? '',
      type: f.get('type') ?? '',
      deliveries: Number(f.get('deliveries') ?? 0) || 0,
      error: f.get('error') ?? '',
      at: Number.isFinite(at) ? new Date(at).toISOString() : '',
      body: f.get('body') ?? '',
    };
  });
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
