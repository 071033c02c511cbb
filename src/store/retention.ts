/**
 * Retention: the records that grow with work and are not bounded where they are written are
 * removed here, by a sweep a worker runs every RETENTION_SWEEP_S (one worker at a time), once
 * their retention has passed. Each removal is one script that checks, atomically, that the
 * record is still not needed; every key it touches is declared in KEYS (the keys that depend on
 * a record's content, such as the binding an account order names, are read first and the script
 * checks they are still the ones named).
 *
 * - Accounts (`status:`, `order:`, and their status-index entry): removed once the account has
 *   been idle for ACCOUNT_RECORD_TTL_S: no hold, no lease (nothing in flight), its newest intent
 *   not queued, and no outcome recorded since the cutoff. An intent older than the newest that
 *   is still queued (it will end superseded, and needs the order to find out) was claimed before
 *   the newest's outcome, so the sweep only takes accounts whose last outcome is older than the
 *   oldest intent still pending: known-state.ts and begin-run.ts never miss a record they need.
 * - Breakers (`breaker:<id>` and the `breaker-index` entry): a closed (or never tripped) breaker
 *   with no signal for BREAKER_RECORD_TTL_S and nothing due or waiting to be enqueued. Its
 *   minute buckets expire on their own.
 * - Bulk runs (`batch:<id>`, `batch:<id>:accounts`, the batches index entry): BATCH_RECORD_TTL_S
 *   after the run finished; never while a pass is enqueueing or an account waits.
 * - Window occurrences: the newest WINDOW_OCCURRENCES_KEEP of each window are kept; older ones
 *   are removed once ended or skipped (one still starting or started is kept).
 *
 * Failed jobs are BullMQ's (`removeOnFail`, queue/queue.ts); the events stream, bindings, dedupe
 * marks, breaker buckets, the webhook inbox and completed jobs are bounded where written.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import { BT } from './batch-record.js';
import { UT } from './batch-undo-record.js';
import { B } from './binding.js';
import { BK } from './breaker-state.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

export interface RetentionSettings {
  accountRecordTtlS: number;
  batchRecordTtlS: number;
  breakerRecordTtlS: number;
  windowOccurrencesKeep: number;
}

export interface SweepCounts {
  accounts: number;
  breakers: number;
  batches: number;
  occurrences: number;
}

/** Records examined per script call. */
const PAGE = 500;
/** Fields of an account order hash (claim-keys.ts writes them). */
const ORDER_KEY = 'key';

// KEYS: status index, pending, then per account: status, order, holds, lease, binding of the
// order's newest key (any key of the prefix when it has none). ARGV: cutoff ms, then per
// account: id, the order's newest key as read before ('' = no order). Returns how many went.
const accountsScript = defineScript(`
local limit = tonumber(ARGV[1])
local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if oldest[2] and tonumber(oldest[2]) < limit then limit = tonumber(oldest[2]) end
local removed = 0
for i = 2, #ARGV, 2 do
  local id, expected = ARGV[i], ARGV[i + 1]
  local k = 2 + (i - 2) / 2 * 5
  local score = tonumber(redis.call('ZSCORE', KEYS[1], id))
  if score and score < limit
    and redis.call('EXISTS', KEYS[k + 3]) == 0
    and redis.call('EXISTS', KEYS[k + 4]) == 0
    and (redis.call('HGET', KEYS[k + 2], '${ORDER_KEY}') or '') == expected
    and (expected == '' or redis.call('HGET', KEYS[k + 5], '${B.state}') ~= 'queued') then
    redis.call('DEL', KEYS[k + 1], KEYS[k + 2])
    redis.call('ZREM', KEYS[1], id)
    removed = removed + 1
  end
end
return removed
`);

// KEYS: breaker index, breaker due, then per account its breaker hash. ARGV: cutoff ms, ids.
const breakersScript = defineScript(`
local removed = 0
for i = 2, #ARGV do
  local id, BREAKER = ARGV[i], KEYS[i + 1]
  local score = tonumber(redis.call('ZSCORE', KEYS[1], id))
  local state, pending = unpack(redis.call('HMGET', BREAKER, '${BK.state}', '${BK.pendingActivation}'))
  if score and score < tonumber(ARGV[1]) and (not state or state == 'closed') and not pending
    and not redis.call('ZSCORE', KEYS[2], id) then
    redis.call('DEL', BREAKER)
    redis.call('ZREM', KEYS[1], id)
    removed = removed + 1
  end
end
return removed
`);

// KEYS: batches index, then per batch: its hash, its accounts hash, its undo hash. ARGV: cutoff
// ms, ids. An undo running, or one that finished after the cutoff, keeps the batch.
const batchesScript = defineScript(`
local removed = 0
for i = 2, #ARGV do
  local BATCH, ACCOUNTS, UNDO = KEYS[3 * i - 4], KEYS[3 * i - 3], KEYS[3 * i - 2]
  local finished, done, undoState, undoFinished = unpack(redis.call('HMGET', BATCH,
    '${BT.finishedAt}', '${BT.enqueueDone}', '${UT.state}', '${UT.finishedAt}'))
  local undoOver = undoState ~= 'running' and (tonumber(undoFinished) or 0) < tonumber(ARGV[1])
  if finished and done == '1' and tonumber(finished) < tonumber(ARGV[1]) and undoOver then
    redis.call('DEL', BATCH, ACCOUNTS, UNDO)
    redis.call('ZREM', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
`);

// KEYS: a window's occurrences index, then the occurrences' hashes. ARGV: their ids.
const occurrencesScript = defineScript(`
local removed = 0
for i = 1, #ARGV do
  local state = redis.call('HGET', KEYS[i + 1], 'state')
  if state == 'ended' or state == 'skipped' or not state then
    redis.call('DEL', KEYS[i + 1])
    redis.call('ZREM', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
`);

/**
 * Pages through the members of the sorted set `index` scored before `cutoffMs`, handing each
 * page to `remove` (one script: it removes what is still not needed and says how many); what
 * it keeps is stepped over. @returns how many went.
 */
async function sweepIndex(
  redis: Redis,
  index: string,
  cutoffMs: number,
  remove: (ids: string[]) => Promise<number>,
): Promise<number> {
  let removed = 0;
  let offset = 0;
  for (;;) {
    const ids = await redis.zrangebyscore(index, '-inf', `(${cutoffMs}`, 'LIMIT', offset, PAGE);
    if (ids.length === 0) return removed;
    const n = await remove(ids);
    removed += n;
    offset += ids.length - n;
  }
}

/** Remove the account records idle since before `cutoffMs` (see the file's comment). */
export function sweepAccounts(redis: Redis, keys: Keys, cutoffMs: number): Promise<number> {
  return sweepIndex(redis, keys.statusIndex, cutoffMs, async (ids) => {
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hget(keys.accountOrder(id), ORDER_KEY);
    const newest = ((await pipeline.exec()) ?? []).map(([err, v]) => {
      if (err) throw err;
      return typeof v === 'string' ? v : '';
    });
    const scriptKeys = [keys.statusIndex, keys.pending];
    const args: (string | number)[] = [cutoffMs];
    ids.forEach((id, i) => {
      const key = newest[i] ?? '';
      scriptKeys.push(
        keys.status(id),
        keys.accountOrder(id),
        keys.holds(id),
        keys.accountLease(id),
        keys.binding(key),
      );
      args.push(id, key);
    });
    return Number(await accountsScript(redis, scriptKeys, args));
  });
}

/** Remove closed breakers without a signal since before `cutoffMs`. */
export function sweepBreakers(redis: Redis, keys: Keys, cutoffMs: number): Promise<number> {
  return sweepIndex(redis, keys.breakerIndex, cutoffMs, async (ids) =>
    Number(
      await breakersScript(
        redis,
        [keys.breakerIndex, keys.breakerDue, ...ids.map((id) => keys.breaker(id))],
        [cutoffMs, ...ids],
      ),
    ),
  );
}

/** Remove bulk runs that finished before `cutoffMs`. */
export function sweepBatches(redis: Redis, keys: Keys, cutoffMs: number): Promise<number> {
  // Scored by their first start, which is never after their finish.
  return sweepIndex(redis, keys.batchIndex, cutoffMs, async (ids) =>
    Number(
      await batchesScript(
        redis,
        [
          keys.batchIndex,
          ...ids.flatMap((id) => [keys.batch(id), keys.batchAccounts(id), keys.batchUndo(id)]),
        ],
        [cutoffMs, ...ids],
      ),
    ),
  );
}

/** Keep the newest `keep` occurrences of every window (older ones once ended or skipped). */
export async function sweepOccurrences(redis: Redis, keys: Keys, keep: number): Promise<number> {
  let removed = 0;
  for (let offset = 0; ; offset += PAGE) {
    const windows = await redis.zrange(keys.windowIndex, offset, offset + PAGE - 1);
    if (windows.length === 0) return removed;
    const pipeline = redis.pipeline();
    for (const w of windows) pipeline.zcard(keys.windowOccurrences(w));
    const cards = ((await pipeline.exec()) ?? []).map(([err, v]) => {
      if (err) throw err;
      return Number(v);
    });
    for (const [i, w] of windows.entries()) {
      const index = keys.windowOccurrences(w);
      let left = cards[i] ?? 0;
      // The oldest first; those still running are stepped over, the newest `keep` never read.
      let stepped = 0;
      for (;;) {
        const room = left - keep - stepped;
        if (room <= 0) break;
        const ids = await redis.zrange(index, stepped, stepped + Math.min(room, PAGE) - 1);
        if (ids.length === 0) break;
        const n = Number(
          await occurrencesScript(
            redis,
            [index, ...ids.map((o) => keys.windowOccurrence(w, o))],
            ids,
          ),
        );
        removed += n;
        left -= n;
        stepped += ids.length - n;
      }
    }
  }
}

/** One retention sweep over every kind of record, as of `now`. */
export async function sweepRetention(
  redis: Redis,
  keys: Keys,
  settings: RetentionSettings,
  now = Date.now(),
): Promise<SweepCounts> {
  return {
    accounts: await sweepAccounts(redis, keys, now - settings.accountRecordTtlS * 1000),
    breakers: await sweepBreakers(redis, keys, now - settings.breakerRecordTtlS * 1000),
    batches: await sweepBatches(redis, keys, now - settings.batchRecordTtlS * 1000),
    occurrences: await sweepOccurrences(redis, keys, settings.windowOccurrencesKeep),
  };
}

// KEYS: turn. ARGV: token, ms.
/**
 * One worker per period sweeps: whoever sets the turn key first; it is not given back, so the
 * other workers skip the sweep until it expires.
 */
export async function takeRetentionTurn(redis: Redis, keys: Keys, ms: number): Promise<boolean> {
  return (await redis.set(keys.retentionTurn, String(process.pid), 'PX', ms, 'NX')) === 'OK';
}
