/**
 * Which of many accounts have at least one hold: one ZMSCORE on the holds index (holds.ts
 * keeps the index and the holds in the same script, so an account is in the index exactly
 * while it has a hold). A constant number of round trips per chunk of a bulk run, however
 * many of its accounts are held.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';

/** Per account, in order: whether it has at least one hold. */
export async function heldAmong(
  redis: Redis,
  keys: Keys,
  accountIds: readonly string[],
): Promise<boolean[]> {
  if (accountIds.length === 0) return [];
  const scores = await redis.zmscore(keys.holdsIndex, ...accountIds);
  return scores.map((s) => s !== null);
}
