/**
 * The webhook inbox: a Redis Stream of accepted Sendmux webhook events, each entry the raw
 * body (`body`) and its type (`type`), waiting to be processed after the HTTP answer.
 *
 * - {@link appendToInbox}: one Lua step marks the event id seen (expires) and appends the entry,
 *   so a crash can neither lose an accepted event nor store a retried delivery twice; in the
 *   same step it refuses the event (stores nothing) when the inbox is full (below).
 * - {@link readInbox} / {@link ackInbox}: a consumer group. An entry stays pending until
 *   acknowledged; one left pending longer than `claimIdleMs` (its processor crashed) is claimed
 *   (XAUTOCLAIM) by the next reader and processed again: at-least-once. Each entry says how
 *   often it was delivered.
 * - {@link deadLetterInbox}: an entry delivered too often without being processed (a record its
 *   processing always fails on) is moved, body and all, to the stream `webhook-dead` (capped) and
 *   acknowledged in one step, so it neither retries for ever nor is trimmed away unseen.
 *
 * **Accepted means kept until processed.** An entry is *processed* once the group has delivered
 * it and it is no longer pending (acknowledged, or moved to the dead letters); every other entry
 * (pending, or never delivered) is *unprocessed*. Trimming (one Lua function, {@link TRIM_LUA},
 * run by the append and by {@link ackInbox} with caps) removes processed entries only, oldest
 * first, while the inbox holds more than `maxLen` entries or `maxBytes` bytes, and never past the
 * oldest unprocessed one (XTRIM MINID). An inbox that cannot make room (its unprocessed entries
 * reach `backlogMax`, or what it cannot trim fills `maxLen` or `maxBytes`) refuses the append:
 * the receiver answers 503 and Sendmux sends the event again later. The group is created (from
 * the start of the stream) by the first append, so events stored before any reader came are
 * unprocessed too. The stored bytes are a counter (`webhook-inbox-bytes`) added to on append and
 * taken from on trim, in the same scripts.
 */
import type { RedisClient as Redis } from '../redis.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

/** The consumer group of the breaker on the webhook inbox: the one whose progress trims it. */
export const INBOX_GROUP = 'breaker';

/** Most entries one trim removes (the rest on the next append or ack). */
export const TRIM_MAX_PER_CALL = 1_000;

/**
 * Lua shared by the scripts that append and trim. `inbox_state(inbox, bytes_key, group)`: the
 * inbox's entries, stored bytes, unprocessed entries, and a test `processed(id)` (nil without
 * the group: nothing processed). `trim(...)`: drop processed entries from the head while over
 * the caps; returns entries and bytes after.
 */
const TRIM_LUA = `
local function id_parts(id)
  local ms, seq = string.match(id, '^(%d+)%-(%d+)$')
  return tonumber(ms), tonumber(seq), ms, seq
end
-- a < b, for stream ids
local function id_less(a, b)
  local am, as = id_parts(a)
  local bm, bs = id_parts(b)
  if am ~= bm then return am < bm end
  return as < bs
end
local function group_of(inbox, group)
  local groups = redis.pcall('XINFO', 'GROUPS', inbox)
  if type(groups) ~= 'table' or groups.err then return nil end
  for _, g in ipairs(groups) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f['name'] == group then return f end
  end
  return nil
end
-- repair: when the group has read everything, a lag left over by entries trimmed before they
-- were read (by an older version's XADD MAXLEN) is set right, so it stops counting as backlog.
local function inbox_state(inbox, bytes_key, group, repair)
  local len = redis.call('XLEN', inbox)
  local bytes = tonumber(redis.call('GET', bytes_key) or '0') or 0
  if len == 0 and bytes ~= 0 then
    redis.call('DEL', bytes_key)
    bytes = 0
  end
  local g = group_of(inbox, group)
  if not g then return len, bytes, len, nil end
  local last = g['last-delivered-id']
  local pending = tonumber(g['pending']) or 0
  local lag = g['lag']
  if lag then lag = tonumber(lag) end
  if (not lag or lag > 0) and repair then
    if #redis.call('XRANGE', inbox, '(' .. last, '+', 'COUNT', 1) == 0 then
      if lag and g['entries-read'] then
        redis.call('XGROUP', 'SETID', inbox, group, last, 'ENTRIESREAD', tonumber(g['entries-read']) + lag)
      end
      lag = 0
    end
  end
  -- Unknown only after XDEL (never used here): every entry counts as unprocessed.
  if not lag then lag = len end
  local first_pending = nil
  if pending > 0 then
    local p = redis.call('XPENDING', inbox, group, '-', '+', 1)
    if p[1] then first_pending = p[1][1] end
  end
  local function processed(id)
    return not id_less(last, id) and (first_pending == nil or id_less(id, first_pending))
  end
  return len, bytes, pending + lag, processed
end
local function trim(inbox, bytes_key, processed, len, bytes, max_len, max_bytes)
  if processed == nil then return len, bytes end
  local removed, freed, cut, from = 0, 0, nil, '-'
  local function over() return len - removed > max_len or bytes - freed > max_bytes end
  while over() and removed < ${TRIM_MAX_PER_CALL} do
    -- as many as the entry cap needs (bodies are copied into Lua), a few for the byte cap
    local want = len - removed - max_len
    if want < 1 then want = 4 end
    want = math.min(want, 50)
    local batch = redis.call('XRANGE', inbox, from, '+', 'COUNT', want)
    if #batch == 0 then break end
    local stop = false
    for _, e in ipairs(batch) do
      if not over() or removed >= ${TRIM_MAX_PER_CALL} or not processed(e[1]) then
        stop = true
        break
      end
      local size = 0
      for i = 2, #e[2], 2 do size = size + #e[2][i] end
      removed = removed + 1
      freed = freed + size
      cut = e[1]
    end
    if stop then break end
    from = '(' .. cut
  end
  if cut == nil then return len, bytes end
  local _, seq, ms = id_parts(cut)
  -- exact: removes the entries up to cut, the ones just counted
  redis.call('XTRIM', inbox, 'MINID', ms .. '-' .. string.format('%.0f', seq + 1))
  -- never below 0 (entries stored before the counter existed are taken off too)
  bytes = math.max(0, bytes - freed)
  if bytes == 0 then redis.call('DEL', bytes_key) else redis.call('SET', bytes_key, bytes) end
  return len - removed, bytes
end
`;

/**
 * KEYS: seen mark, inbox, stored bytes. ARGV: ttl s, group, max len, backlog max, max bytes,
 * type, body. Returns {'stored', id} | {'duplicate'} | {'full', cap, backlog, entries, bytes}.
 */
const appendScript = defineScript(`${TRIM_LUA}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'duplicate'} end
local inbox, bytes_key, group = KEYS[2], KEYS[3], ARGV[2]
local max_len, backlog_max, max_bytes = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local size = #ARGV[6] + #ARGV[7]
local function store()
  local id = redis.call('XADD', inbox, '*', 'type', ARGV[6], 'body', ARGV[7])
  redis.call('INCRBY', bytes_key, size)
  redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
  return {'stored', id}
end
-- Fast path: no unprocessed entry is ever trimmed, so there are at most XLEN of them; with
-- room below every cap, the group need not be read.
local len = redis.call('XLEN', inbox)
local bytes = tonumber(redis.call('GET', bytes_key) or '0') or 0
if len == 0 then
  -- the group from the first entry on (BUSYGROUP when it exists: fine)
  redis.pcall('XGROUP', 'CREATE', inbox, group, '0', 'MKSTREAM')
  -- an empty inbox holds no bytes, whatever a counter left by a deleted stream says
  if bytes ~= 0 then
    redis.call('DEL', bytes_key)
    bytes = 0
  end
end
if len < backlog_max and len < max_len and bytes + size <= max_bytes then return store() end
local backlog, processed
len, bytes, backlog, processed = inbox_state(inbox, bytes_key, group, false)
-- No group yet: every entry is unprocessed (backlog = len), and the group starts at the first.
if processed == nil then redis.call('XGROUP', 'CREATE', inbox, group, '0', 'MKSTREAM') end
-- Room for this one, and for up to 1 in 1,000 of max_len more (at most 100) without trimming.
local slack = math.min(100, math.floor(max_len / 1000))
len, bytes = trim(inbox, bytes_key, processed, len, bytes, max_len - 1 - slack, max_bytes - size)
local cap = nil
if backlog >= backlog_max then cap = 'backlog'
elseif bytes + size > max_bytes then cap = 'bytes'
elseif len >= max_len then cap = 'entries' end
if cap then return {'full', cap, backlog, len, bytes} end
return store()
`);

/** The inbox's caps (config: WEBHOOK_INBOX_MAXLEN, WEBHOOK_INBOX_MAX_BYTES). */
export interface InboxCaps {
  /** Most entries, processed ones included (processed ones are trimmed to make room). */
  maxLen: number;
  /** Most bytes of stored bodies and types (processed ones are trimmed to make room). */
  maxBytes: number;
}

export interface AppendOptions extends InboxCaps {
  /** How long the event id is remembered (s). */
  dedupeTtlS: number;
  /** Most unprocessed entries (pending + never delivered). @defaultValue maxLen */
  backlogMax?: number;
  /** The group whose progress says what is processed. @defaultValue {@link INBOX_GROUP} */
  group?: string;
}

/** What an append did. */
export type AppendResult =
  | { stored: true; id: string }
  /** The event id was seen within the dedupe window: nothing stored. */
  | { stored: false; duplicate: true }
  /**
   * The inbox is full (nothing stored, the id not marked seen): `cap` says which cap, the rest
   * what the inbox held (`backlog`: unprocessed entries).
   */
  | {
      stored: false;
      duplicate: false;
      cap: 'backlog' | 'bytes' | 'entries';
      backlog: number;
      entries: number;
      bytes: number;
    };

/**
 * Store one event unless its id was seen within the dedupe window or the inbox is full (see
 * the module's comment), in one step.
 */
export async function appendToInbox(
  redis: Redis,
  keys: Keys,
  event: { id: string; type: string; body: Buffer | string },
  options: AppendOptions,
): Promise<AppendResult> {
  const reply = (await appendScript(
    redis,
    [keys.webhookSeen(event.id), keys.webhookInbox, keys.webhookInboxBytes],
    // ioredis sends a Buffer as is: the stored body is byte for byte the signed one.
    [
      options.dedupeTtlS,
      options.group ?? INBOX_GROUP,
      options.maxLen,
      options.backlogMax ?? options.maxLen,
      options.maxBytes,
      event.type,
      event.body,
    ],
  )) as [string, ...(string | number)[]];
  if (reply[0] === 'stored') return { stored: true, id: String(reply[1]) };
  if (reply[0] === 'duplicate') return { stored: false, duplicate: true };
  return {
    stored: false,
    duplicate: false,
    cap: reply[1] as 'backlog' | 'bytes' | 'entries',
    backlog: Number(reply[2]),
    entries: Number(reply[3]),
    bytes: Number(reply[4]),
  };
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

/**
 * KEYS: inbox, stored bytes. ARGV: group, max len, max bytes, ids to acknowledge...
 * Returns {acknowledged, unprocessed entries, entries, bytes} after the trim.
 */
const ackScript = defineScript(`${TRIM_LUA}
local inbox, bytes_key, group = KEYS[1], KEYS[2], ARGV[1]
local acked = 0
if #ARGV > 3 then acked = redis.call('XACK', inbox, group, unpack(ARGV, 4)) end
if redis.call('EXISTS', inbox) == 0 then return {acked, 0, 0, 0} end
local len, bytes, backlog, processed = inbox_state(inbox, bytes_key, group, true)
len, bytes = trim(inbox, bytes_key, processed, len, bytes, tonumber(ARGV[2]), tonumber(ARGV[3]))
return {acked, backlog, len, bytes}
`);

/** What the inbox holds after {@link settleInbox}. */
export interface InboxState {
  /** Entries acknowledged by this call (pending until then). */
  acked: number;
  /** Unprocessed entries: pending, or not yet delivered to the group. */
  backlog: number;
  entries: number;
  bytes: number;
}

/**
 * What the inbox holds now, for `group` (read only): unprocessed entries (pending + not yet
 * delivered; every entry when the group does not exist yet), entries, stored bytes.
 */
export async function readInboxState(
  redis: Redis,
  keys: Keys,
  group: string = INBOX_GROUP,
): Promise<Omit<InboxState, 'acked'>> {
  const [entries, bytes] = await Promise.all([
    redis.xlen(keys.webhookInbox),
    redis.get(keys.webhookInboxBytes),
  ]);
  let backlog = entries;
  const groups = (await redis
    .call('XINFO', 'GROUPS', keys.webhookInbox)
    .catch(() => [])) as unknown[][];
  for (const g of groups) {
    const f = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) f.set(g[i], g[i + 1]);
    if (f.get('name') !== group) continue;
    const lag = f.get('lag');
    backlog = Number(f.get('pending') ?? 0) + (typeof lag === 'number' ? lag : entries);
  }
  return { backlog, entries, bytes: Number(bytes ?? 0) };
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

/**
 * Acknowledge processed entries (none is fine) and trim the processed ones beyond the caps, in
 * one step; the consumer calls it after each batch (dead letters included, acknowledged when
 * moved).
 */
export async function settleInbox(
  redis: Redis,
  keys: Keys,
  group: string,
  ids: readonly string[],
  caps: InboxCaps,
): Promise<InboxState> {
  const [acked, backlog, entries, bytes] = (await ackScript(
    redis,
    [keys.webhookInbox, keys.webhookInboxBytes],
    [group, caps.maxLen, caps.maxBytes, ...ids],
  )) as number[];
  return {
    acked: acked ?? 0,
    backlog: backlog ?? 0,
    entries: entries ?? 0,
    bytes: bytes ?? 0,
  };
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
