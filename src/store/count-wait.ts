/**
 * Count one put-back of a job (a wait that consumes no attempt) on its binding, per kind, and
 * give the account lease back when the call certainly did not run. Refused (`lost`) when the
 * run no longer owns its job, so a run that lost its lock changes nothing.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { RunRef } from './begin-run.js';
import { B, type WaitKind } from './binding.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

// KEYS: job lock, binding, account lease. ARGV: token, field, key, release (1/0).
const countScript = defineScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if ARGV[4] == '1' and redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
return n
`);

/** @returns the new count of this kind, or `undefined` if the run lost its job. */
export async function countWait(
  redis: Redis,
  keys: Keys,
  run: RunRef,
  kind: WaitKind,
  releaseLease: boolean,
): Promise<number | undefined> {
  const n = Number(
    await countScript(
      redis,
      [keys.jobLock(run.jobId, run.queue), keys.binding(run.key), keys.accountLease(run.accountId)],
      [run.token, `${B.waitPrefix}${kind}`, run.key, releaseLease ? '1' : '0'],
    ),
  );
  return n < 0 ? undefined : n;
}
