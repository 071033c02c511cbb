/**
 * What `/metrics` reads from Redis at scrape time: job counts of every queue (BullMQ's
 * getJobCounts), breakers by state, the deployment's breaker trips (store/breaker-trip-count.ts)
 * and the webhook inbox's backlog (store/webhook-inbox-trim.ts).
 * The caller bounds each read (scrape-gauges.ts).
 */
import type { Queue } from 'bullmq';
import type { RedisClient as Redis } from '../redis/connect.js';
import { BK, BREAKER_STATES } from '../store/breaker-state.js';
import { readTripCounts } from '../store/breaker-trip-count.js';
import type { Keys } from '../store/keys.js';
import { INBOX_GROUP, readInboxState } from '../store/webhook-inbox-trim.js';
import { BREAKER_SCAN_MAX, type ScrapeSource } from './scrape-gauges.js';

/** Job states reported per queue. */
export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
] as const;

/** Breaker hashes read per pipeline. */
const BREAKER_CHUNK = 1_000;

export function createScrapeSource(deps: {
  redis: Redis;
  keys: Keys;
  queues: readonly Queue[];
}): ScrapeSource {
  const { redis, keys, queues } = deps;
  return {
    async queueCounts() {
      const all = await Promise.all(queues.map((q) => q.getJobCounts(...QUEUE_STATES)));
      return Object.fromEntries(queues.map((q, i) => [q.name, all[i] ?? {}]));
    },
    async breakerStates() {
      // Every account the breaker has seen is in its index; a never-tripped one has no state
      // field and is closed. The most recently active ones are read (an account tripped
      // recently has had signals recently); the rest of the index counts as closed.
      const [total, ids] = await Promise.all([
        redis.zcard(keys.breakerIndex),
        redis.zrevrange(keys.breakerIndex, 0, BREAKER_SCAN_MAX - 1),
      ]);
      const counts: Record<string, number> = Object.fromEntries(BREAKER_STATES.map((s) => [s, 0]));
      for (let i = 0; i < ids.length; i += BREAKER_CHUNK) {
        const pipeline = redis.pipeline();
        for (const id of ids.slice(i, i + BREAKER_CHUNK)) pipeline.hget(keys.breaker(id), BK.state);
        for (const [err, state] of (await pipeline.exec()) ?? []) {
          if (err) throw err;
          const s = typeof state === 'string' && state in counts ? state : 'closed';
          counts[s] = (counts[s] ?? 0) + 1;
        }
      }
      counts.closed = (counts.closed ?? 0) + Math.max(0, total - ids.length);
      return counts;
    },
    breakerTrips: () => readTripCounts(redis, keys),
    webhookInbox: () => readInboxState(redis, keys, INBOX_GROUP),
  };
}
