/** Redis connections and start-up checks. */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

/** While Redis stays unreachable, how often to say so again. */
const STILL_WAITING_LOG_MS = 10_000;

/** A Redis URL without its password, for messages. */
export function safeRedisUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}

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
  let lastLoggedAt = 0;
  redis.on('error', (err: Error) => {
    // One line per distinct problem, and a reminder while it lasts, not a line per retry.
    const now = Date.now();
    if (err.message === lastMessage && now - lastLoggedAt < STILL_WAITING_LOG_MS) return;
    const again = err.message === lastMessage;
    lastMessage = err.message;
    lastLoggedAt = now;
    log?.warn(
      { err: err.message, redis: safeRedisUrl(url) },
      again ? 'still waiting for Redis (reconnecting)' : 'Redis connection error (reconnecting)',
    );
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
