/**
 * Redis for the test run: `REDIS_URL` when set (CI, this machine), otherwise a throwaway
 * container from testcontainers (a developer laptop with Docker).
 */
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    project.provide('redisUrl', fromEnv);
    return undefined;
  }
  const { RedisContainer } = await import('@testcontainers/redis');
  const container = await new RedisContainer('redis:7-alpine')
    .withCommand(['redis-server', '--maxmemory-policy', 'noeviction'])
    .start();
  const url = container.getConnectionUrl();
  process.env.REDIS_URL = url;
  project.provide('redisUrl', url);
  return async () => {
    await container.stop();
  };
}
