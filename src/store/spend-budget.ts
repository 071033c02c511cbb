/**
 * Spend one call of the shared rate budget outside a job: the API reads a producer makes (a
 * bulk run listing accounts) count against the same per-key limit as the actions, so they go
 * through the same counter every worker uses, BullMQ's rate-limiter key, by BullMQ's own rule
 * (a counter that expires `duration` after its first call; full at `max`). A queue paused by a
 * 429 or a refused key holds the reads too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

// KEYS: limiter. ARGV: max, duration ms. Returns 0 (spent) or the ms to wait.
const spendScript = defineScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
  local left = redis.call('PTTL', KEYS[1])
  if left > 0 then return left end
  redis.call('DEL', KEYS[1])
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

export interface Budget {
  max: number;
  duration: number;
}

/** Wait until the budget has room, then take one call of it. */
export async function spendBudget(
  redis: Redis,
  keys: Keys,
  budget: Budget,
  signal?: AbortSignal,
): Promise<void> {
  for (;;) {
    signal?.throwIfAborted();
    const wait = Number(await spendScript(redis, [keys.limiter], [budget.max, budget.duration]));
    if (wait <= 0) return;
    await sleep(Math.min(wait, 1_000), undefined, { signal });
  }
}
