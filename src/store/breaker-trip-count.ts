/**
 * Breaker trips of the whole deployment, by reason: the hash `<prefix>:breaker-trips`, one
 * counter per reason (bounce_rate, complaint_rate, manual). Incremented by the process that
 * tripped, after the trip's step (producers/breaker/breaker.ts), and read at scrape time
 * (metrics/scrape-source.ts): every serving process's `/metrics` shows the trips made anywhere,
 * a CLI `breaker trip` or a library user's included, where `breaker_trips_total` counts only
 * the trips of the process itself.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';

/** Count one trip of `reason` in the deployment's counters. */
export async function countTripInRedis(redis: Redis, keys: Keys, reason: string): Promise<void> {
  await redis.hincrby(keys.breakerTrips, reason, 1);
}

/** The deployment's trips so far, by reason (none yet: empty). */
export async function readTripCounts(redis: Redis, keys: Keys): Promise<Record<string, number>> {
  const raw = await redis.hgetall(keys.breakerTrips);
  return Object.fromEntries(Object.entries(raw).map(([reason, n]) => [reason, Number(n)]));
}
