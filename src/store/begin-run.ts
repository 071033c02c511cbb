/**
 * The check a run makes before it calls the API, in one atomic step:
 * - the run still owns its job (BullMQ's lock holds its token), else `lost`;
 * - the binding is this job's generation and still queued, else `stale` / `terminal`;
 * - no newer intent was asked for the account, else `superseded` (the caller records it); a
 *   newer one that was cancelled before it ran does not count;
 * - for an activation: the account has no hold, else `held` (the caller records it superseded
 *   by the hold, and never calls: holds.ts, no activation runs while a hold stands);
 * - no other intent's call on the account is in flight (the account lease), else `busy`;
 * - for an urgent run (the urgent queue's: no BullMQ limiter holds it back), the actions queue
 *   is not paused (a 429, a refused key, the low watermark: pause-queue.ts), else `paused`;
 * - the API key's window has room for one more call of ours (rate-budget.ts), else `budget`;
 * then it takes the account lease and counts the start.
 *
 * The lease is what keeps calls on one account in the order they were asked: it is held from
 * here until the outcome is recorded or a put-back gives it back (count-wait.ts), and expires
 * by itself if the worker dies.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import { B, WAIT_KINDS, type WaitKind } from './binding.js';
import { holdIdsLua } from './hold-lua.js';
import type { Keys } from './keys.js';
import { takeCallLua } from './rate-budget.js';
import { defineScript } from './script.js';

// KEYS: job lock, binding, account order, account lease, rate budget, holds, the binding of the
// account's newest intent as last read (the run's own binding at first), the actions queue's
// limiter (BullMQ's; a pause sets it above any limit).
// ARGV: token, seq, key, lease ms, now ms, budget reserve (fraction of the limit), urgent ('1'/'0'),
// action, the newest intent's key as last read (KEYS[7]'s), the limiter's limit above which it is
// a pause ('' = not checked: a run of the actions queue, which BullMQ holds back itself).
// When a newer intent is found and it
// is not that one, the script answers {'keys-changed', its key} before any write: the caller
// runs it again with that binding declared (every key a script touches is in KEYS: script.ts).
const beginScript = defineScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'lost'} end
local state, seq = unpack(redis.call('HMGET', KEYS[2], '${B.state}', '${B.seq}'))
if not state or seq ~= ARGV[2] then return {'stale'} end
if state ~= 'queued' then return {'terminal', state} end
local newest, newestKey = unpack(redis.call('HMGET', KEYS[3], 'seq', 'key'))
if newest and tonumber(newest) > tonumber(seq) then
  -- A newer intent withdrawn before it ran (batch cancel) supersedes nothing: this one is the
  -- account's newest again (the first older one to get here; the others, older still, then
  -- find it newer than themselves).
  if newestKey ~= ARGV[9] then return {'keys-changed', newestKey} end
  if redis.call('HGET', KEYS[7], '${B.state}') ~= 'cancelled' then
    return {'superseded', newestKey}
  end
  redis.call('HSET', KEYS[3], 'seq', seq, 'key', ARGV[3])
end
if ARGV[8] == 'activate' and redis.call('EXISTS', KEYS[6]) == 1 then
  local held = {}
  ${holdIdsLua('KEYS[6]', 'held')}
  table.sort(held)
  return {'held', table.concat(held, ',')}
end
local holder = redis.call('GET', KEYS[4])
if holder and holder ~= ARGV[3] then return {'busy', redis.call('PTTL', KEYS[4])} end
if ARGV[10] ~= '' and tonumber(redis.call('GET', KEYS[8]) or '0') > tonumber(ARGV[10]) then
  local left = redis.call('PTTL', KEYS[8])
  if left > 0 then return {'paused', left} end
end
${takeCallLua('KEYS[5]', 'ARGV[5]', 'ARGV[6]', 'ARGV[7]')}
redis.call('SET', KEYS[4], ARGV[3], 'PX', ARGV[4])
local starts = redis.call('HINCRBY', KEYS[2], '${B.starts}', 1)
redis.call('HSET', KEYS[2], '${B.beganAt}', ARGV[5])
local waits = redis.call('HMGET', KEYS[2], ${WAIT_KINDS.map((k) => `'${B.waitPrefix}${k}'`).join(', ')})
return {'go', starts, waits}
`);

export type BeginResult =
  /** Go ahead: `starts` counts this run; `waits` are the put-backs so far, per kind. */
  | { kind: 'go'; starts: number; waits: Record<WaitKind, number> }
  | { kind: 'lost' }
  | { kind: 'stale' }
  | { kind: 'terminal'; state: string }
  | { kind: 'superseded'; by: string }
  /** An activation of an account that has holds (their ids, comma-separated). */
  | { kind: 'held'; by: string }
  | { kind: 'busy'; retryInMs: number }
  /** The key's window is spent (rate-budget.ts): wait this long. */
  | { kind: 'budget'; retryInMs: number }
  /** An urgent run while the actions queue is paused (pause-queue.ts): for this long. */
  | { kind: 'paused'; retryInMs: number };

export interface RunRef {
  jobId: string;
  token: string;
  key: string;
  seq: number;
  accountId: string;
  action: 'deactivate' | 'activate';
  /** The job's queue, when not the actions queue (its lock lives there: keys.jobLock). */
  queue?: string;
}

export interface BudgetRef {
  /** Share of the limit left to others (RATE_LIMIT_RESERVE). */
  reserve: number;
  now?: number;
  /** Not paced, may use the reserve (rate-budget.ts). */
  urgent?: boolean;
  /**
   * For runs no BullMQ limiter holds back (the urgent queue's): wait while the actions queue is
   * paused, that is while its limiter counts above this (its per-slot limit, limiterFor).
   */
  pauseAbove?: number;
}

export async function beginRun(
  redis: Redis,
  keys: Keys,
  run: RunRef,
  leaseMs: number,
  budget: BudgetRef = { reserve: 0 },
): Promise<BeginResult> {
  // Mostly the run's intent is the account's newest: its binding is the guess; a newer one
  // found costs one more round trip.
  let newestKey = run.key;
  let reply: [string, (string | number)?, (string | null)[]?];
  for (let attempt = 1; ; attempt++) {
    reply = (await beginScript(
      redis,
      [
        keys.jobLock(run.jobId, run.queue),
        keys.binding(run.key),
        keys.accountOrder(run.accountId),
        keys.accountLease(run.accountId),
        keys.rateBudget,
        keys.holds(run.accountId),
        keys.binding(newestKey),
        keys.limiter,
      ],
      [
        run.token,
        run.seq,
        run.key,
        leaseMs,
        budget.now ?? Date.now(),
        budget.reserve,
        budget.urgent ? '1' : '0',
        run.action,
        newestKey,
        budget.pauseAbove ?? '',
      ],
    )) as [string, (string | number)?, (string | null)[]?];
    if (reply[0] !== 'keys-changed') break;
    if (attempt >= 100) throw new Error('begin-run kept finding a newer intent');
    newestKey = String(reply[1]);
  }
  const [kind, value, waitCounts] = reply;
  switch (kind) {
    case 'go': {
      const waits = Object.fromEntries(
        WAIT_KINDS.map((k, i) => [k, Number(waitCounts?.[i] ?? 0)]),
      ) as Record<WaitKind, number>;
      return { kind, starts: Number(value), waits };
    }
    case 'lost':
    case 'stale':
      return { kind };
    case 'terminal':
      return { kind, state: String(value) };
    case 'superseded':
    case 'held':
      return { kind, by: String(value) };
    case 'busy':
    case 'budget':
    case 'paused':
      return { kind, retryInMs: Math.max(0, Number(value)) };
    default:
      throw new Error(`begin-run script answered "${kind}"`);
  }
}
