/** Redis connections and start-up checks. */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * A connection for this project's stores and for BullMQ.
 * `maxRetriesPerRequest: null` is what BullMQ workers require; producers may pass a number to
 * fail fast instead of waiting for Redis forever.
 */
export function createRedis(url: string, options: RedisOptions = {}, log?: Logger): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: false,
    ...options,
  });
  // ioredis reconnects by itself; without a listener it prints "Unhandled error event".
  // Commands that fail meanwhile reject to their callers, so a log line is all that is needed.
  let lastMessage = '';
  redis.on('error', (err: Error) => {
    if (err.message === lastMessage) return; // one line per distinct problem, not per retry
    lastMessage = err.message;
    log?.warn({ err: err.message }, 'Redis connection error (reconnecting)');
  });
  redis.on('ready', () => {
    if (lastMessage !== '') log?.info('Redis connection restored');
    lastMessage = '';
  });
  return redis;
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
