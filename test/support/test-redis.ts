/**
 * The Redis a test run uses: REDIS_URL, else the default URL, else a throwaway redis-server
 * (all from src/redis/find-redis.ts), else a testcontainers Redis when a container runtime
 * answers, else one line naming the fixes.
 */
import {
  findLocalRedis,
  type FindRedisOptions,
  type LocalRedis,
  type RedisFallback,
} from '../../src/redis/find-redis.js';

export interface TestRedisOptions extends Omit<FindRedisOptions, 'fallback'> {
  /** Try testcontainers as the last resort. @defaultValue true */
  containers?: boolean;
}

export async function findTestRedis(options: TestRedisOptions = {}): Promise<LocalRedis> {
  const { containers = true, ...rest } = options;
  return findLocalRedis({ ...rest, ...(containers ? { fallback: containerFallback } : {}) });
}

const containerFallback: RedisFallback = {
  missing: 'no container runtime answered',
  fix: 'Docker (for testcontainers)',
  async start() {
    const { getContainerRuntimeClient } = await import('testcontainers');
    try {
      await getContainerRuntimeClient();
    } catch {
      return undefined; // "Could not find a working container runtime strategy"
    }
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7-alpine')
      .withCommand(['redis-server', '--maxmemory-policy', 'noeviction'])
      .start();
    return {
      url: container.getConnectionUrl(),
      source: 'container',
      why: 'testcontainers redis:7-alpine; stopped at the end',
      async stop() {
        await container.stop();
      },
    };
  },
};
