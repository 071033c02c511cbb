/** Per-test Redis prefix, config and cleanup. Tests never share Redis keys. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { readBindings } from '../../src/store/binding.js';
import { dropPrefix as dropKeys } from '../../src/store/drop-prefix.js';
import { keysFor, type Keys } from '../../src/store/keys.js';

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A unique prefix (a hash tag, like production's `{sdx}`). */
export function uniquePrefix(): string {
  return `{sdxt-${randomUUID().slice(0, 8)}}`;
}

/** Config as the worker would load it, pointed at the test Redis with a fresh prefix. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({ REDIS_URL: redisUrl(), LOG_LEVEL: 'silent' }),
    prefix: uniquePrefix(),
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
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
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
  redis: Redis,
  keys: Keys,
  idempotencyKeys: readonly string[],
): Promise<string[]> {
  return (await readBindings(redis, keys, idempotencyKeys)).map((b) => b?.state ?? 'unknown');
}

/**
 * A Redis connection and a fresh key namespace per test (`beforeEach`), dropped after it.
 * Read `current()` inside tests.
 */
export function redisPerTest(): { current(): { redis: Redis; keys: Keys } } {
  let state: { redis: Redis; keys: Keys } | undefined;
  beforeEach(() => {
    state = { redis: new Redis(redisUrl()), keys: keysFor(uniquePrefix()) };
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
