/** Per-test Redis prefix, config and cleanup. Tests never share Redis keys. */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterEach, beforeEach, inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createRedis, type RedisClient } from '../../src/redis/connect.js';
import { readBindings } from '../../src/store/binding.js';
import { dropPrefix as dropKeys } from '../../src/store/drop-prefix.js';
import { keysFor, type Keys } from '../../src/store/keys.js';
import { keySlotOwnerless, type ClusterInfo } from './redis-cluster.js';

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A unique prefix (a hash tag, like production's `{sdx}`). */
export function uniquePrefix(): string {
  return `{sdxt-${randomUUID().slice(0, 8)}}`;
}

/** The Redis Cluster of the `cluster` project (cluster-setup.ts), else undefined. */
export function testCluster(): ClusterInfo | undefined {
  return inject('redisCluster');
}

/**
 * Where a deployment with this prefix finds Redis: the test Redis, or in the `cluster`
 * project the Cluster, seeded only with nodes that do NOT own the prefix's slot (so every
 * client must follow a redirection to work at all).
 */
export function testTarget(prefix: string): Pick<Config, 'redisUrl' | 'redisClusterNodes'> {
  const cluster = testCluster();
  if (!cluster) return { redisUrl: redisUrl(), redisClusterNodes: undefined };
  return { redisUrl: cluster.url, redisClusterNodes: keySlotOwnerless(cluster, prefix) };
}

/** A connection to the test Redis (a Cluster client in the `cluster` project). */
export function testRedis(prefix: string, maxRetriesPerRequest: number | null = 1): RedisClient {
  return createRedis(testTarget(prefix), { maxRetriesPerRequest });
}

/** The keys matching a pattern (KEYS: on a Cluster, asked of every master). */
export async function keysMatching(redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  return (await Promise.all(nodes.map((n) => n.keys(pattern)))).flat();
}

/** Config as the worker would load it, pointed at the test Redis with a fresh prefix. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const prefix = overrides.prefix ?? uniquePrefix();
  return {
    ...loadConfig({ REDIS_URL: redisUrl(), LOG_LEVEL: 'silent' }),
    ...testTarget(prefix),
    prefix,
    backoffBaseMs: 50,
    backoffCapMs: 500,
    rateLimitPerMinute: 0,
    timeoutMs: 2_000,
    lockDurationMs: 5_000,
    stalledIntervalMs: 5_000,
    shutdownTimeoutMs: 5_000,
    ...overrides,
  };
}

/** Delete every key under a prefix. */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = testRedis(prefix);
  try {
    await dropKeys(redis, prefix);
  } finally {
    await redis.quit();
  }
}

/** Poll until `check` returns a value other than undefined, or fail after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The state of each key's intent (`unknown` when it has no binding). */
export async function intentStates(
  redis: RedisClient,
  keys: Keys,
  idempotencyKeys: readonly string[],
): Promise<string[]> {
  return (await readBindings(redis, keys, idempotencyKeys)).map((b) => b?.state ?? 'unknown');
}

/**
 * A Redis connection and a fresh key namespace per test (`beforeEach`), dropped after it.
 * Read `current()` inside tests.
 */
export function redisPerTest(): { current(): { redis: RedisClient; keys: Keys } } {
  let state: { redis: RedisClient; keys: Keys } | undefined;
  beforeEach(() => {
    const keys = keysFor(uniquePrefix());
    state = { redis: testRedis(keys.prefix, null), keys };
  });
  afterEach(async () => {
    if (!state) return;
    await state.redis.quit();
    await dropPrefix(state.keys.prefix);
    state = undefined;
  });
  return {
    current() {
      if (!state) throw new Error('redisPerTest: only inside a test');
      return state;
    },
  };
}
