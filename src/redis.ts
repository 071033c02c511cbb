/** Redis connections and start-up checks. */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * A connection for this project's stores and for BullMQ.
 * `maxRetriesPerRequest: null` is what BullMQ workers require; producers may pass a number to
 * fail fast instead of waiting for Redis forever.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: false,
    ...options,
  });
}

/**
 * BullMQ needs `maxmemory-policy noeviction`: with any other policy Redis may silently drop
 * job keys under memory pressure. Warn (do not fail) when it is not so, or cannot be read.
 */
export async function checkEvictionPolicy(redis: Redis, log: Logger): Promise<string | undefined> {
  try {
    const reply = await redis.config('GET', 'maxmemory-policy');
    const policy = Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
    if (policy !== 'noeviction') {
      log.warn(
        { maxmemory_policy: policy },
        'Redis maxmemory-policy is not noeviction: jobs and idempotency records may be evicted under memory pressure',
      );
    }
    return policy;
  } catch (err) {
    log.warn({ err: String(err) }, 'could not read Redis maxmemory-policy (CONFIG GET refused?)');
    return undefined;
  }
}
