/**
 * The record of a bulk run (a batch): the hash `<prefix>:batch:<id>` with its settings and
 * counters, and the hash `<prefix>:batch:<id>:accounts` with one field per account: '' while
 * its intent waits for an outcome, the terminal event's JSON after (record-outcome.ts writes
 * it in the same step as the outcome, so the counters and the report never disagree). This
 * file owns the field names and the scripts that open and add to a batch (record-outcome.ts
 * closes its accounts); batch-read.ts reads it.
 *
 * A batch is the run's report: it is removed BATCH_RECORD_TTL_S after it finished, never before
 * (store/retention.ts). Its intents' bindings expire as usual
 * (IDEMPOTENCY_TTL_S after their outcome); an account whose field holds an event is never
 * enqueued again by the same batch, however late it is resumed.
 */
import type { Action } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { UndoRecord } from './batch-undo-record.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

/** Field names of the batch hash. Outcome counters are named after the outcome. */
export const BT = {
  action: 'action',
  source: 'source',
  reason: 'reason',
  createdAt: 'created_at',
  /** Who started the run (model/actor.ts); absent in batches created before actors existed. */
  createdBy: 'created_by',
  /** Start of the latest enqueueing pass (ms). */
  passStartedAt: 'pass_started_at',
  finishedAt: 'finished_at',
  /** Enqueueing passes started (1 for a run never resumed). */
  passes: 'passes',
  /** '1' once a pass enqueued all of its input; '0' while one is under way. */
  enqueueDone: 'enqueue_done',
  /** Accounts in the batch (each once, whatever the passes). */
  total: 'total',
  /**
   * Accounts left out on purpose: the shared account without --include-shared; in an activate
   * run, accounts some source holds off.
   */
  skipped: 'skipped',
  /** Input lines of the latest pass that were not a valid account id. */
  invalid: 'invalid',
  /** Repeated ids in the latest pass's input (asked for once). */
  duplicates: 'duplicates',
  succeeded: 'succeeded',
  failed: 'failed',
  superseded: 'superseded',
  cancelled: 'cancelled',
  /** Accounts with an outcome, whatever it is (the sum of the four above). */
  done: 'done',
  /** When `batch cancel` ran (ms). */
  cancelledAt: 'cancelled_at',
  /** Who ran the first `batch cancel`. */
  cancelledBy: 'cancelled_by',
} as const;

/**
 * Lua: an account of the batch gets its end (`EVENT`, of outcome `OUTCOME`): the accounts hash,
 * the outcome's counter and `done`; the batch is finished once every account is done and no
 * pass is still enqueueing. Written by record-outcome.ts, in the step that records the outcome.
 */
export function closeAccountLua(
  ACCOUNTS: string,
  BATCH: string,
  ID: string,
  EVENT: string,
  OUTCOME: string,
  NOW: string,
): string {
  return `
redis.call('HSET', ${ACCOUNTS}, ${ID}, ${EVENT})
redis.call('HINCRBY', ${BATCH}, ${OUTCOME}, 1)
redis.call('HINCRBY', ${BATCH}, '${BT.done}', 1)
${finishIfDoneLua(BATCH, NOW)}
`;
}

/** Lua: set `finished_at` once every account is done and no pass is still enqueueing. */
function finishIfDoneLua(BATCH: string, NOW: string): string {
  return `
do
  local b = redis.call('HMGET', ${BATCH}, '${BT.enqueueDone}', '${BT.total}', '${BT.done}')
  if b[1] == '1' and (tonumber(b[3]) or 0) >= (tonumber(b[2]) or 0) then
    redis.call('HSETNX', ${BATCH}, '${BT.finishedAt}', ${NOW})
  end
end
`;
}

/** Batch ids: what `--batch-id` accepts (they become part of Redis keys and idempotency keys). */
export const BATCH_ID_RULE = /^[A-Za-z0-9._-]{1,64}$/;
export const BATCH_ID_RULE_TEXT = 'must be 1..64 letters, digits, ".", "_" or "-"';

export interface BatchRecord {
  batch_id: string;
  action: Action;
  source: string;
  reason: string;
  created_at: string;
  /** Who started the run (null when not recorded). */
  created_by: string | null;
  pass_started_at: string | null;
  finished_at: string | null;
  passes: number;
  /** Every pass so far enqueued all of its input. */
  enqueue_done: boolean;
  total: number;
  /** Accounts whose intent has no outcome yet. */
  queued: number;
  succeeded: number;
  failed: number;
  superseded: number;
  cancelled: number;
  /** When `batch cancel` ran, if it did. */
  cancelled_at: string | null;
  cancelled_by: string | null;
  skipped: number;
  invalid: number;
  duplicates: number;
  /** What `batch undo` did (null if it never ran): batch-undo-record.ts. */
  undo: UndoRecord | null;
}

// KEYS: batch, index. ARGV: batch id, action, now ms, source, reason, actor ('' none).
const openScript = defineScript(`
local action = redis.call('HGET', KEYS[1], '${BT.action}')
if action and action ~= ARGV[2] then return {'conflict', action} end
if not action then
  redis.call('HSET', KEYS[1], '${BT.action}', ARGV[2], '${BT.createdAt}', ARGV[3],
    '${BT.source}', ARGV[4], '${BT.reason}', ARGV[5], '${BT.total}', 0)
  if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], '${BT.createdBy}', ARGV[6]) end
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
redis.call('HSET', KEYS[1], '${BT.passStartedAt}', ARGV[3], '${BT.enqueueDone}', '0')
return {'ok', redis.call('HINCRBY', KEYS[1], '${BT.passes}', 1), action and 0 or 1}
`);

export type OpenBatchResult =
  { ok: true; pass: number; created: boolean } | { ok: false; existingAction: string };

/**
 * Create the batch, or start another pass of it (resume); refuses a different action. `actor`
 * (who started it) is recorded when the batch is created (`created_by`), not by a resume.
 */
export async function openBatch(
  redis: Redis,
  keys: Keys,
  batch: { id: string; action: Action; source: string; reason: string; actor?: string },
  now = Date.now(),
): Promise<OpenBatchResult> {
  const reply = (await openScript(
    redis,
    [keys.batch(batch.id), keys.batchIndex],
    [batch.id, batch.action, now, batch.source, batch.reason, batch.actor ?? ''],
  )) as [string, string | number, number?];
  if (reply[0] === 'conflict') return { ok: false, existingAction: String(reply[1]) };
  return { ok: true, pass: Number(reply[1]), created: reply[2] === 1 };
}

/**
 * What a pass does with each id: `new` to the batch, already `queued` by an earlier pass (its
 * intent is enqueued again, which is a no-op if it is already bound), already `done` (it has
 * its outcome: left alone), or a `repeat` of an id earlier in this pass's input.
 */
export type BatchAdd = 'new' | 'queued' | 'done' | 'repeat';
const ADD_CODES: Record<string, BatchAdd> = { n: 'new', q: 'queued', d: 'done', r: 'repeat' };

// KEYS: accounts, pass-seen hash, batch. ARGV: seen ttl s, the account ids as a JSON array
// (one value, not one argument per id: the client's cost grows with the argument count).
// A constant number of calls per chunk (not per id): one HMGET per hash, one HSET per write,
// in slices that stay under Lua's limit on unpacked arguments.
const addScript = defineScript(`
local function sliced(cmd, key, list, step)
  local out = {}
  for from = 1, #list, step do
    local part = redis.call(cmd, key, unpack(list, from, math.min(from + step - 1, #list)))
    if type(part) == 'table' then
      for j = 1, #part do out[#out + 1] = part[j] end
    end
  end
  return out
end
local ids = cjson.decode(ARGV[2])
local n = #ids
local seen = sliced('HMGET', KEYS[2], ids, 1000)
-- The first time this pass meets an id (earlier chunks, or earlier in this one).
local here, firsts = {}, {}
for i = 1, n do
  if not seen[i] and not here[ids[i]] then
    here[ids[i]] = true
    firsts[#firsts + 1] = i
  end
end
local firstIds, marks = {}, {}
for j = 1, #firsts do
  firstIds[j] = ids[firsts[j]]
  marks[#marks + 1] = firstIds[j]
  marks[#marks + 1] = '1'
end
local code = {}
if #firstIds > 0 then
  local held = sliced('HMGET', KEYS[1], firstIds, 1000)
  local fresh = {}
  for j = 1, #firsts do
    local v = held[j]
    if not v then
      fresh[#fresh + 1] = firstIds[j]
      fresh[#fresh + 1] = ''
      code[firsts[j]] = 'n'
    elseif v == '' then
      code[firsts[j]] = 'q'
    else
      code[firsts[j]] = 'd'
    end
  end
  sliced('HSET', KEYS[2], marks, 2000)
  if #fresh > 0 then
    sliced('HSET', KEYS[1], fresh, 2000)
    redis.call('HINCRBY', KEYS[3], '${BT.total}', #fresh / 2)
    -- Only a pass that adds an account reopens a finished batch (a no-op pass keeps its history).
    redis.call('HDEL', KEYS[3], '${BT.finishedAt}')
  end
end
redis.call('EXPIRE', KEYS[2], ARGV[1])
local out = {}
for i = 1, n do out[i] = code[i] or 'r' end
return table.concat(out)
`);

/** How long a pass remembers the ids it saw (a pass longer than this could miss a repeat). */
const PASS_SEEN_TTL_S = 7 * 24 * 3600;

/** Add a chunk of a pass's ids to the batch; one answer per id, in order. */
export async function addToBatch(
  redis: Redis,
  keys: Keys,
  batchId: string,
  pass: number,
  accountIds: readonly string[],
): Promise<BatchAdd[]> {
  if (accountIds.length === 0) return [];
  const codes = (await addScript(
    redis,
    [keys.batchAccounts(batchId), keys.batchPassSeen(batchId, pass), keys.batch(batchId)],
    [PASS_SEEN_TTL_S, JSON.stringify(accountIds)],
  )) as string;
  return Array.from({ length: codes.length }, (_, i) => ADD_CODES[codes.charAt(i)] ?? 'repeat');
}

// KEYS: batch, pass-seen hash. ARGV: now ms, invalid, duplicates, skipped, '1' if the pass
// enqueued anything (else its figures leave the record's as they are).
const endPassScript = defineScript(`
redis.call('HSET', KEYS[1], '${BT.enqueueDone}', '1')
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[1], '${BT.invalid}', ARGV[2], '${BT.duplicates}', ARGV[3])
  redis.call('HINCRBY', KEYS[1], '${BT.skipped}', ARGV[4])
end
redis.call('UNLINK', KEYS[2])
${finishIfDoneLua('KEYS[1]', 'ARGV[1]')}
return 1
`);

/**
 * A pass enqueued all of its input: record its counts; the batch may be finished already. A
 * pass that enqueued nothing (`changed` false, default true: every account had its outcome) keeps the
 * record's figures and its `finished_at` (a no-op pass does not rewrite history).
 */
export async function endBatchPass(
  redis: Redis,
  keys: Keys,
  batchId: string,
  pass: number,
  counts: { invalid: number; duplicates: number; skipped: number; changed?: boolean },
  now = Date.now(),
): Promise<void> {
  await endPassScript(
    redis,
    [keys.batch(batchId), keys.batchPassSeen(batchId, pass)],
    [now, counts.invalid, counts.duplicates, counts.skipped, counts.changed === false ? '' : '1'],
  );
}

// KEYS: batch. ARGV: now ms, actor.
const cancelledScript = defineScript(`
if redis.call('HSETNX', KEYS[1], '${BT.cancelledAt}', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], '${BT.cancelledBy}', ARGV[2])
end
return 1
`);

/** Note that the batch was cancelled, and by whom (the first time only). */
export async function markBatchCancelled(
  redis: Redis,
  keys: Keys,
  batchId: string,
  actor: string,
  now = Date.now(),
): Promise<void> {
  await cancelledScript(redis, [keys.batch(batchId)], [now, actor]);
}
