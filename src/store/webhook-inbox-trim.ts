/**
 * The webhook inbox's rule and its trim: a Redis Stream of accepted Sendmux webhook events, each
 * entry the raw body (`body`) and its type (`type`), waiting to be processed after the HTTP
 * answer. The inbox is four files, one step each:
 *
 * - webhook-inbox-append.ts ({@link appendToInbox}): one Lua step marks the event id seen
 *   (expires) and appends the entry, so a crash can neither lose an accepted event nor store a
 *   retried delivery twice; in the same step it refuses the event (stores nothing) when the
 *   inbox is full (below).
 * - webhook-inbox-read.ts (`readInbox` / `ackInbox`): a consumer group. An entry stays pending
 *   until acknowledged; one left pending longer than `claimIdleMs` (its processor crashed) is
 *   claimed (XAUTOCLAIM) by the next reader and processed again: at-least-once. Each entry says
 *   how often it was delivered.
 * - webhook-inbox-dead.ts (`deadLetterInbox`): an entry delivered too often without being
 *   processed (a record its processing always fails on) is moved, body and all, to the stream
 *   `webhook-dead` (capped) and acknowledged in one step, so it neither retries for ever nor is
 *   trimmed away unseen.
 * - this file: the trim every other step relies on ({@link TRIM_LUA}), {@link settleInbox}
 *   (acknowledge and trim) and {@link readInboxState}.
 *
 * **Accepted means kept until processed.** An entry is *processed* once the group has delivered
 * it and it is no longer pending (acknowledged, or moved to the dead letters); every other entry
 * (pending, or never delivered) is *unprocessed*. Trimming (one Lua function, {@link TRIM_LUA},
 * run by the append and by {@link settleInbox}) removes processed entries only, oldest
 * first, while the inbox holds more than `maxLen` entries or `maxBytes` bytes, and never past the
 * oldest unprocessed one (XTRIM MINID). An inbox that cannot make room (its unprocessed entries
 * reach `backlogMax`, or what it cannot trim fills `maxLen` or `maxBytes`) refuses the append:
 * the receiver answers 503 and Sendmux sends the event again later. The group is created (from
 * the start of the stream) by the first append, so events stored before any reader came are
 * unprocessed too. The stored bytes are a counter (`webhook-inbox-bytes`) added to on append and
 * taken from on trim, in the same scripts.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
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
export const TRIM_LUA = `
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

/** The inbox's caps (config: WEBHOOK_INBOX_MAXLEN, WEBHOOK_INBOX_MAX_BYTES). */
export interface InboxCaps {
  /** Most entries, processed ones included (processed ones are trimmed to make room). */
  maxLen: number;
  /** Most bytes of stored bodies and types (processed ones are trimmed to make room). */
  maxBytes: number;
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
