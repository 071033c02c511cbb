/**
 * Pause every worker of the queue for `ms`, through BullMQ's rate-limiter key (a value above
 * any limit with an expiry is how BullMQ's own `rateLimit()` does it). Unlike that plain SET,
 * a shorter pause never cuts a longer one: the later deadline wins.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

const pauseScript = defineScript(`
local left = redis.call('PTTL', KEYS[1])
if left >= tonumber(ARGV[1]) then return left end
redis.call('SET', KEYS[1], '9007199254740991', 'PX', ARGV[1])
return tonumber(ARGV[1])
`);

/** @returns how long the queue is now paused for (ms): this pause or a longer one already set. */
export async function pauseQueue(redis: Redis, keys: Keys, ms: number): Promise<number> {
  return Number(await pauseScript(redis, [keys.limiter], [Math.max(1, Math.ceil(ms))]));
}

/**
 * How long the queue stays paused by {@link pauseQueue} (or BullMQ's own `rateLimit()`): the
 * ms left, 0 when it is not. The limiter's count while it only paces jobs (at most `max`, the
 * per-slot limit, for one slot after each job) is not a pause.
 */
export async function queuePausedForMs(redis: Redis, keys: Keys, max: number): Promise<number> {
  const [value, left] = await Promise.all([redis.get(keys.limiter), redis.pttl(keys.limiter)]);
  return Number(value ?? 0) > max && left > 0 ? left : 0;
}
