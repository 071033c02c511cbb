/**
 * What `batch undo` did, kept in the bulk run's record (batch-record.ts): the undo's fields in
 * the batch hash (state, times, actor, counts), and the hash `<prefix>:batch:<id>:undo` with one
 * field per account: its undo result (`reactivated`, `still_held`, ...), then, for an account
 * reactivated, `reactivated:<outcome>` once its activation has its outcome (record-outcome.ts
 * writes that in the step that records the outcome, with {@link closeUndoActivationLua}).
 *
 * The counts are per account, not per undo: a second undo changes an account's result only
 * where it did something new (an account whose deactivation was still running at the first
 * undo, say); `already_undone` never replaces an earlier result. So the counts always add up to
 * the batch's accounts, and repeating an undo changes nothing. The undo is `running` from its
 * start until it has gone through every account and every activation it asked for has an
 * outcome; `finished_at` is set then, and moves only when a later undo asks for a new
 * activation (a no-op undo keeps it). A crash between a release (which binds the activation)
 * and the marking of its result is harmless: the activation's outcome marks the account
 * `reactivated` itself, and the next undo finds it marked.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

/** What an undo did with one account (ops/batch-undo.ts explains each). */
export const UNDO_RESULTS = [
  'reactivated',
  'still_held',
  'was_inactive',
  'not_switched_off',
  'already_undone',
] as const;
export type UndoResultName = (typeof UNDO_RESULTS)[number];

/** The outcomes an activation can end with. */
export const ACTIVATION_OUTCOMES = ['succeeded', 'failed', 'superseded', 'cancelled'] as const;
export type ActivationOutcome = (typeof ACTIVATION_OUTCOMES)[number];

/** Field names of the undo's part of the batch hash. */
export const UT = {
  state: 'undo_state',
  /** The first undo's start (ms) and actor. */
  startedAt: 'undo_started_at',
  by: 'undo_by',
  /** Undo runs so far, and the latest one's start and actor. */
  runs: 'undo_runs',
  lastAt: 'undo_last_at',
  lastBy: 'undo_last_by',
  /** When the last activation asked for got its outcome (ms). */
  finishedAt: 'undo_finished_at',
  /** '1' once the latest undo went through every account. */
  enqueueDone: 'undo_enqueue_done',
} as const;

/** The batch hash's counter of accounts with an undo result. */
export const resultField = (r: string): string => `undo_${r}`;
/** The batch hash's counter of the undo's activations that ended with an outcome. */
export const activationField = (o: string): string => `undo_activation_${o}`;

/**
 * The idempotency key of `batch undo`'s activation for an account (ops/batch-activations.ts
 * `undoKey` makes it; a unit test keeps the two equal).
 */
export function undoActivationKey(batchId: string, accountId: string): string {
  return `bulk:${batchId}:${accountId}:undo`;
}

/** Lua: mark the undo finished once it went through every account and no activation waits. */
function finishUndoIfDoneLua(BATCH: string, NOW: string): string {
  return `
do
  local u = redis.call('HMGET', ${BATCH}, '${UT.enqueueDone}', '${resultField('reactivated')}',
    ${ACTIVATION_OUTCOMES.map((o) => `'${activationField(o)}'`).join(', ')})
  local ended = 0
  for i = 3, #u do ended = ended + (tonumber(u[i]) or 0) end
  if u[1] == '1' and ended >= (tonumber(u[2]) or 0) then
    redis.call('HSET', ${BATCH}, '${UT.state}', 'done')
    redis.call('HSETNX', ${BATCH}, '${UT.finishedAt}', ${NOW})
  end
end
`;
}

/**
 * Lua: an undo's activation got its outcome (record-outcome.ts, in its step): the account's
 * field becomes `reactivated:<outcome>` and the counters move, once per account. An account
 * not marked yet (the undo was killed after its release bound the activation) is counted as
 * reactivated here. Nothing is written for a batch whose record is gone.
 */
export function closeUndoActivationLua(
  UNDO: string,
  BATCH: string,
  ID: string,
  OUTCOME: string,
  NOW: string,
): string {
  return `
if redis.call('HEXISTS', ${BATCH}, 'action') == 1 then
  local v = redis.call('HGET', ${UNDO}, ${ID})
  if not v or not string.find(v, ':', 1, true) then
    redis.call('HSET', ${UNDO}, ${ID}, 'reactivated:' .. ${OUTCOME})
    if v ~= 'reactivated' then
      if v then redis.call('HINCRBY', ${BATCH}, 'undo_' .. v, -1) end
      redis.call('HINCRBY', ${BATCH}, '${resultField('reactivated')}', 1)
    end
    redis.call('HINCRBY', ${BATCH}, 'undo_activation_' .. ${OUTCOME}, 1)
    ${finishUndoIfDoneLua(BATCH, NOW)}
  end
end
`;
}

// KEYS: batch. ARGV: now ms, actor.
const beginScript = defineScript(`
redis.call('HINCRBY', KEYS[1], '${UT.runs}', 1)
redis.call('HSETNX', KEYS[1], '${UT.startedAt}', ARGV[1])
redis.call('HSETNX', KEYS[1], '${UT.by}', ARGV[2])
redis.call('HSET', KEYS[1], '${UT.lastAt}', ARGV[1], '${UT.lastBy}', ARGV[2],
  '${UT.enqueueDone}', '0', '${UT.state}', 'running')
return 1
`);

/** An undo starts: counted, its start and actor noted (the first undo's kept apart). */
export async function beginUndo(
  redis: Redis,
  keys: Keys,
  batchId: string,
  actor: string,
  now = Date.now(),
): Promise<void> {
  await beginScript(redis, [keys.batch(batchId)], [now, actor]);
}

// KEYS: undo, batch. ARGV: [[account, result], ...] as JSON.
const markScript = defineScript(`
local rows = cjson.decode(ARGV[1])
for _, row in ipairs(rows) do
  local id, new = row[1], row[2]
  local v = redis.call('HGET', KEYS[1], id)
  local old = v and string.match(v, '^[^:]+')
  local keep = (v and string.find(v, ':', 1, true)) or (v and new == 'already_undone') or old == new
  if not keep then
    redis.call('HSET', KEYS[1], id, new)
    if old then redis.call('HINCRBY', KEYS[2], 'undo_' .. old, -1) end
    redis.call('HINCRBY', KEYS[2], 'undo_' .. new, 1)
    if new == 'reactivated' then redis.call('HDEL', KEYS[2], '${UT.finishedAt}') end
  end
end
return 1
`);

/**
 * Record a page of an undo's results. An account keeps its earlier result where this undo did
 * nothing new (`already_undone`) or its activation already has an outcome; a new activation
 * (`reactivated`) reopens the undo's `finished_at`.
 */
export async function markUndoResults(
  redis: Redis,
  keys: Keys,
  batchId: string,
  rows: readonly (readonly [string, UndoResultName])[],
): Promise<void> {
  if (rows.length === 0) return;
  await markScript(redis, [keys.batchUndo(batchId), keys.batch(batchId)], [JSON.stringify(rows)]);
}

// KEYS: batch. ARGV: now ms.
const endScript = defineScript(`
redis.call('HSET', KEYS[1], '${UT.enqueueDone}', '1')
${finishUndoIfDoneLua('KEYS[1]', 'ARGV[1]')}
return 1
`);

/** The undo went through every account: it is done once its activations all have an outcome. */
export async function endUndo(
  redis: Redis,
  keys: Keys,
  batchId: string,
  now = Date.now(),
): Promise<void> {
  await endScript(redis, [keys.batch(batchId)], [now]);
}

/** The undo's part of a batch's record (null when it was never undone). */
export interface UndoRecord {
  /** `running` until it went through every account and every activation has its outcome. */
  state: 'running' | 'done';
  started_at: string;
  /** When its last activation got its outcome (null while running). */
  finished_at: string | null;
  /** Who ran the first undo (null for records written before actors were kept). */
  by: string | null;
  /** Undo runs so far (a second undo only adds what the first could not do). */
  runs: number;
  last_run_at: string;
  last_run_by: string | null;
  reactivated: number;
  still_held: number;
  was_inactive: number;
  not_switched_off: number;
  already_undone: number;
  /** The activations asked for (one per reactivated account) and their outcomes. */
  activations: {
    total: number;
    succeeded: number;
    failed: number;
    superseded: number;
    cancelled: number;
    queued: number;
  };
}

function iso(ms: string | undefined): string | null {
  const n = Number(ms);
  return ms && Number.isFinite(n) ? new Date(n).toISOString() : null;
}

/** The undo's part of a batch hash as read (HGETALL). */
export function undoRecordOf(h: Record<string, string>): UndoRecord | null {
  if (h[UT.runs] === undefined) return null;
  const n = (k: string) => Math.max(0, Number(h[k] ?? 0) || 0);
  const outcomes = Object.fromEntries(
    ACTIVATION_OUTCOMES.map((o) => [o, n(activationField(o))]),
  ) as Record<ActivationOutcome, number>;
  const total = n(resultField('reactivated'));
  const ended = ACTIVATION_OUTCOMES.reduce((sum, o) => sum + outcomes[o], 0);
  return {
    state: h[UT.state] === 'done' ? 'done' : 'running',
    started_at: iso(h[UT.startedAt]) ?? '',
    finished_at: h[UT.state] === 'done' ? iso(h[UT.finishedAt]) : null,
    by: h[UT.by] || null,
    runs: n(UT.runs),
    last_run_at: iso(h[UT.lastAt]) ?? '',
    last_run_by: h[UT.lastBy] || null,
    reactivated: total,
    still_held: n(resultField('still_held')),
    was_inactive: n(resultField('was_inactive')),
    not_switched_off: n(resultField('not_switched_off')),
    already_undone: n(resultField('already_undone')),
    activations: { total, ...outcomes, queued: Math.max(0, total - ended) },
  };
}

/** One account's undo: its result, and its activation's outcome (null while it has none). */
export interface AccountUndo {
  result: UndoResultName;
  activation: ActivationOutcome | null;
}

/** The undo of each of `accountIds` (null where no undo recorded one), in order. */
export async function readAccountUndos(
  redis: Redis,
  keys: Keys,
  batchId: string,
  accountIds: readonly string[],
): Promise<(AccountUndo | null)[]> {
  if (accountIds.length === 0) return [];
  const values = await redis.hmget(keys.batchUndo(batchId), ...accountIds);
  return values.map((v) => {
    if (!v) return null;
    const [result, activation] = v.split(':');
    return {
      result: (result ?? 'not_switched_off') as UndoResultName,
      activation: (activation || null) as ActivationOutcome | null,
    };
  });
}
