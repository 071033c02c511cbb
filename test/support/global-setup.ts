/**
 * Redis for the test run (see test-redis.ts for the order), shared by every project that lists
 * this file: found once, announced in one line, exported as REDIS_URL for child processes,
 * provided as `redisUrl`, and stopped after the last project's teardown.
 */
import type { TestProject } from 'vitest/node';
import { describeLocalRedis, type LocalRedis } from '../../src/redis/find-redis.js';
import { findTestRedis } from './test-redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

interface Shared {
  redis: LocalRedis;
  users: number;
}

// Each project loads this file as its own module instance: share through the process.
const SHARED: unique symbol = Symbol.for('sendmux-deactivator.test-redis');
const holder = globalThis as typeof globalThis & { [SHARED]?: Shared };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = holder[SHARED] ?? (holder[SHARED] = await startShared());
  shared.users += 1;
  project.provide('redisUrl', shared.redis.url);
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    holder[SHARED] = undefined;
    await shared.redis.stop();
  };
}

async function startShared(): Promise<Shared> {
  const redis = await findTestRedis();
  process.stdout.write(`tests use Redis at ${describeLocalRedis(redis)}\n`);
  process.env.REDIS_URL = redis.url;
  return { redis, users: 0 };
}
