/**
 * GET /readyz: 200 while Redis answers and the actions queue moves; 503 naming `redis` within
 * about a second when Redis is killed (a throwaway redis-server), 200 again once it is back on
 * the same port; 503 naming `queue` when a job has been ready longer than READY_STUCK_MS while
 * no worker runs (not while the queue is paused by us), 200 once a worker drains it.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import type { Readiness } from '../../src/metrics/readiness.js';
import { simAccountId } from '../../src/sim/index.js';
import { keysFor } from '../../src/store/keys.js';
import { pauseQueue } from '../../src/store/pause-queue.js';
import { testConfig, waitFor } from '../support/context.js';
import { manualIntent, startPipeline, type Pipeline } from '../support/pipeline.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/throwaway-redis.js';

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });

let p: Pipeline | undefined;
let app: HttpServer | undefined;
let redis: Redis | undefined;
let throwaway: ThrowawayRedis | undefined;
afterEach(async () => {
  await app?.close();
  await p?.stop();
  if (redis) {
    await Promise.race([
      redis.quit().catch(() => undefined),
      new Promise((r) => setTimeout(r, 500)),
    ]);
    redis.disconnect();
  }
  await throwaway?.stop();
  app = p = redis = throwaway = undefined;
});

async function readyz(server: HttpServer) {
  const started = Date.now();
  const res = await server.inject({ method: 'GET', url: '/readyz' });
  return { status: res.statusCode, body: res.json<Readiness>(), ms: Date.now() - started };
}

describe('GET /readyz', () => {
  it('is public and answers 200 with its checks while Redis answers and jobs move', async () => {
    p = await startPipeline({ workers: 1, config: { readyStuckMs: 1_000 } });
    app = await buildServer({ config: p.config, redis: p.redis, logger });
    const first = await readyz(app);
    expect(first).toMatchObject({
      status: 200,
      body: { ready: true, failed: [], checks: { redis: { ok: true }, queue: { ok: true } } },
    });
    await p.producer.enqueue(manualIntent(simAccountId(1), 'ready-1'));
    await p.waitFor(['ready-1']);
    const after = await readyz(app);
    expect(after.status).toBe(200);
    expect(after.body.checks.queue).toMatchObject({ ok: true, working: 0, ready_for_ms: null });
  });

  it('answers 503 naming redis within about a second when Redis is gone, 200 when it is back', async () => {
    throwaway = await startThrowawayRedis();
    const config: Config = testConfig({ redisUrl: throwaway.url });
    redis = new Redis(throwaway.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    app = await buildServer({ config, redis, logger });
    expect((await readyz(app)).status).toBe(200);

    const outage = throwaway.restart(4_000); // killed now, started again on its port in 4 s
    const down = await waitFor(
      async () => {
        const r = await readyz(app as HttpServer);
        return r.status === 503 ? r : undefined;
      },
      3_000,
      '/readyz to answer 503',
    );
    expect(down.body).toMatchObject({
      ready: false,
      failed: ['redis'],
      checks: { redis: { ok: false }, queue: { ok: false } },
    });
    expect(down.body.checks.redis.error).toBeTruthy();
    // Every answer while Redis is gone comes fast (no hanging on a dead connection).
    for (let i = 0; i < 3; i++) {
      const again = await readyz(app);
      expect(again.status).toBe(503);
      expect(again.ms).toBeLessThan(2_000);
    }
    await outage;
    const back = await waitFor(
      async () => {
        const r = await readyz(app as HttpServer);
        return r.status === 200 ? r : undefined;
      },
      10_000,
      '/readyz to answer 200 again',
    );
    expect(back.body.ready).toBe(true);
  });

  it('answers 503 naming the queue when a job waits past READY_STUCK_MS with no worker', async () => {
    p = await startPipeline({ workers: 0, config: { readyStuckMs: 1_000 } });
    app = await buildServer({ config: p.config, redis: p.redis, logger });
    await p.producer.enqueue(manualIntent(simAccountId(2), 'stuck-1'));
    // Ready for less than READY_STUCK_MS: not stuck yet.
    const fresh = await readyz(app);
    expect(fresh.status).toBe(200);
    expect(fresh.body.checks.queue.ready_for_ms).toBeLessThan(1_000);

    // Once ready for longer than READY_STUCK_MS (polled: the answer changes at that age).
    const stuck = await waitFor(
      async () => {
        const r = await readyz(app as HttpServer);
        return r.status === 503 ? r : undefined;
      },
      10_000,
      '/readyz to answer 503',
    );
    expect(stuck).toMatchObject({
      status: 503,
      body: {
        ready: false,
        failed: ['queue'],
        checks: { redis: { ok: true }, queue: { ok: false } },
      },
    });
    expect(stuck.body.checks.queue.ready_for_ms).toBeGreaterThan(1_000);
    expect(stuck.body.checks.queue.error).toMatch(/READY_STUCK_MS/);
    // A server that only takes webhooks and API calls asks for Redis alone.
    const redisOnly = await app.inject({ method: 'GET', url: '/readyz?checks=redis' });
    expect(redisOnly.statusCode).toBe(200);
    const badChecks = await app.inject({ method: 'GET', url: '/readyz?checks=disk' });
    expect(badChecks.statusCode).toBe(400);

    // Paused by us (a 429's pause): waiting is expected, not stuck.
    await pauseQueue(p.redis, keysFor(p.config.prefix), 5_000);
    const paused = await readyz(app);
    expect(paused.status).toBe(200);
    expect(paused.body.checks.queue).toMatchObject({ ok: true, paused: true });
    await p.redis.del(keysFor(p.config.prefix).limiter);
    expect((await readyz(app)).status).toBe(503);

    // A worker drains it.
    await p.addWorker();
    await p.waitFor(['stuck-1']);
    const drained = await readyz(app);
    expect(drained.status).toBe(200);
    expect(drained.body.checks.queue).toMatchObject({ ok: true, ready_for_ms: null });
  });

  it('says paused only for a pause, not for the rate limiter pacing jobs', async () => {
    // 600/min: one job per 100 ms slot; a job just started leaves the limiter at 1 for a slot.
    p = await startPipeline({ workers: 0, config: { rateLimitPerMinute: 6_000 } });
    app = await buildServer({ config: p.config, redis: p.redis, logger });
    const keys = keysFor(p.config.prefix);
    const idle = await readyz(app);
    expect(idle.body.checks.queue).toMatchObject({ ok: true, paused: false });
    // The limiter counting jobs of this slot (at most its 10 per slot): idle, not paused.
    await p.redis.set(keys.limiter, '3', 'PX', 5_000);
    const pacing = await readyz(app);
    expect(pacing.body.checks.queue).toMatchObject({ ok: true, paused: false });
    // A 429's pause of every worker is one.
    await pauseQueue(p.redis, keys, 5_000);
    const paused = await readyz(app);
    expect(paused.body.checks.queue).toMatchObject({ ok: true, paused: true });
  });

  it('is not stuck while jobs wait behind a busy worker', async () => {
    // Every call takes 300 ms, one at a time: the last of five jobs waits over READY_STUCK_MS.
    p = await startPipeline({
      workers: 0,
      config: { readyStuckMs: 1_000, concurrency: 1 },
      sim: { faults: { latencyMs: 300 } },
    });
    app = await buildServer({ config: p.config, redis: p.redis, logger });
    const intents = [3, 4, 5, 6, 7].map((i) => manualIntent(simAccountId(i), `busy-${i}`));
    await p.producer.enqueueMany(intents);
    await p.addWorker();
    const answers: number[] = [];
    const done = p.waitFor(intents.map((i) => i.idempotencyKey));
    const state = { finished: false };
    void done.finally(() => (state.finished = true));
    while (!state.finished) {
      answers.push((await readyz(app)).status);
      await new Promise((r) => setTimeout(r, 50));
    }
    await done;
    expect(answers.length).toBeGreaterThan(5);
    expect(answers.every((s) => s === 200)).toBe(true);
  });
});
