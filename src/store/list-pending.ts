/** Keys bound but not yet terminal, oldest first, claimed before `olderThanMs` (epoch ms). */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';

export async function listPending(
  redis: Redis,
  keys: Keys,
  olderThanMs: number,
  options: { offset?: number; count?: number } = {},
): Promise<{ key: string; claimedAt: number }[]> {
  const flat = await redis.zrangebyscore(
    keys.pending,
    '-inf',
    olderThanMs,
    'WITHSCORES',
    'LIMIT',
    options.offset ?? 0,
    options.count ?? 500,
  );
  const out: { key: string; claimedAt: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push({ key: flat[i] ?? '', claimedAt: Number(flat[i + 1]) });
  }
  return out;
}
