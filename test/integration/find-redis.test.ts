/**
 * Choosing a Redis with real servers and processes: REDIS_URL, the default URL, a throwaway
 * redis-server, and the one-line failures.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { findLocalRedis, NoRedisError, type LocalRedis } from '../../src/redis/find-redis.js';
import {
  freeLoopbackPort,
  pingRedis,
  RedisServerStartError,
  startRedisServer,
} from '../../src/redis/redis-server.js';
import { redisUrl, uniquePrefix } from '../support/context.js';
import { findTestRedis } from '../support/test-redis.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/throwaway-redis.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdx-test-'));
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A loopback URL where nothing listens. */
async function closedUrl(password = ''): Promise<string> {
  return `redis://${password ? `:${password}@` : ''}127.0.0.1:${await freeLoopbackPort()}`;
}

/** Write and read back a key under a fresh prefix: this URL reaches a working Redis. */
async function roundTrip(url: string): Promise<string | null> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const key = `${uniquePrefix()}:probe`;
  try {
    await redis.set(key, 'ok', 'EX', 60);
    return await redis.get(key);
  } finally {
    await redis.del(key);
    await redis.quit();
  }
}

async function find(...args: Parameters<typeof findLocalRedis>): Promise<LocalRedis> {
  const found = await findLocalRedis(...args);
  cleanups.push(() => found.stop());
  return found;
}

describe('findLocalRedis', () => {
  it('uses REDIS_URL as given when it answers, and stops nothing', async () => {
    const found = await find({ env: { REDIS_URL: redisUrl() }, defaultUrl: await closedUrl() });
    expect(found).toMatchObject({ url: redisUrl(), source: 'env', why: 'REDIS_URL' });
    expect(await roundTrip(found.url)).toBe('ok');
    await found.stop();
    expect((await pingRedis(redisUrl())).ok).toBe(true);
  });

  it('uses the default URL when REDIS_URL is unset (or empty) and the default answers', async () => {
    const found = await find({ env: { REDIS_URL: '' }, defaultUrl: redisUrl() });
    expect(found).toMatchObject({
      url: redisUrl(),
      source: 'default',
      why: 'default URL answered',
    });
    expect(await roundTrip(found.url)).toBe('ok');
  });

  it('starts a throwaway redis-server when nothing answers, and stop() removes it and its dir', async () => {
    const defaultUrl = await closedUrl();
    const found = await find({ env: { PATH: process.env.PATH }, defaultUrl });
    expect(found.source).toBe('throwaway');
    expect(found.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(found.url).not.toBe(defaultUrl);
    expect(found.why).toMatch(/^throwaway redis-server on port \d+/);
    expect(await pingRedis(found.url)).toEqual({ ok: true });
    expect(await roundTrip(found.url)).toBe('ok');

    const redis = new Redis(found.url);
    const [, dir] = (await redis.config('GET', 'dir')) as [string, string];
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
    await redis.quit();
    expect(policy).toBe('noeviction');
    expect(existsSync(dir)).toBe(true);
    expect(found.why).toContain(dir);

    await found.stop();
    expect((await pingRedis(found.url)).ok).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it('fails in one line naming REDIS_URL (password hidden) when REDIS_URL does not answer', async () => {
    const error = await findLocalRedis({
      env: { REDIS_URL: await closedUrl('s3cret'), PATH: process.env.PATH },
      defaultUrl: redisUrl(), // would answer: REDIS_URL wins anyway
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(NoRedisError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^REDIS_URL=redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ does not answer PING/);
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toContain('s3cret');
  });

  it('fails in one line naming the three fixes when nothing answers, nothing starts and containers are off', async () => {
    const defaultUrl = await closedUrl();
    const error = await findTestRedis({
      env: { PATH: tempDir() }, // a PATH without redis-server
      defaultUrl,
      containers: false,
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(NoRedisError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain('REDIS_URL is unset');
    expect(message).toContain('redis-server is not on PATH');
    expect(message).toContain('set REDIS_URL=');
    expect(message).toContain(`start Redis on ${new URL(defaultUrl).host}`);
    expect(message).toContain('install redis-server');
  });
});

describe('startRedisServer', () => {
  it('throws with the server output when it does not answer in time', async () => {
    const bin = tempDir();
    // A redis-server that prints a line and then never listens.
    writeFileSync(
      join(bin, 'redis-server'),
      '#!/bin/sh\necho "fake redis-server: not listening"\nexec sleep 30\n',
    );
    chmodSync(join(bin, 'redis-server'), 0o755);
    const started = Date.now();
    const error = await startRedisServer({
      port: await freeLoopbackPort(),
      dir: tempDir(),
      env: { PATH: `${bin}:${process.env.PATH ?? ''}` },
      readyTimeoutMs: 1_000,
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RedisServerStartError);
    expect((error as Error).message).toMatch(/did not answer PING within 1000 ms/);
    expect((error as Error).message).toContain('fake redis-server: not listening');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('does not mistake another server on its port for itself', async () => {
    const first: ThrowawayRedis = await startThrowawayRedis();
    cleanups.push(() => first.stop());
    const port = Number(new URL(first.url).port);
    const error = await startRedisServer({ port, dir: tempDir() }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RedisServerStartError);
    expect((error as Error).message).toMatch(/exited \(1\) before answering PING/);
    expect((error as Error).message).toMatch(/Address already in use/);
  });
});
