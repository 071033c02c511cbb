/** Redis going away and coming back, and a Redis configured against BullMQ's needs. */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { openProducer } from '../../src/queue/open-producer.js';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';
import { keysFor } from '../../src/store/keys.js';
import { startWorker } from '../../src/worker/worker.js';
import { intentStates, testConfig, waitFor } from '../support/context.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/throwaway-redis.js';

let redisServer: ThrowawayRedis | undefined;
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  await redisServer?.stop();
  sim = redisServer = undefined;
});

function captureLogs() {
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      raw += chunk.toString();
      cb();
    },
  });
  return { logger: createLogger({ level: 'warn', destination: stream }), raw: () => raw };
}

describe('Redis faults', () => {
  it('warns at start when maxmemory-policy is not noeviction', async () => {
    redisServer = await startThrowawayRedis(['--maxmemory-policy', 'allkeys-lru']);
    sim = await startSimulator({ accounts: 1 });
    const logs = captureLogs();
    const w = await startWorker({
      config: testConfig({
        redisUrl: redisServer.url,
        baseUrl: sim.url,
        apiKey: 'smx_root_sim_key',
      }),
      logger: logs.logger,
    });
    await w.close();
    expect(logs.raw()).toMatch(/maxmemory-policy is not noeviction/);
    expect(logs.raw()).toContain('allkeys-lru');
  });

  it('keeps working across a Redis restart (AOF on): every job finishes once', async () => {
    redisServer = await startThrowawayRedis([
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--maxmemory-policy',
      'noeviction',
    ]);
    sim = await startSimulator({ accounts: 30, rateLimit: 0, faults: { latencyMs: 50 } });
    const config = testConfig({
      redisUrl: redisServer.url,
      baseUrl: sim.url,
      apiKey: 'smx_root_sim_key',
      concurrency: 2,
    });
    const logs = captureLogs();
    const worker = await startWorker({ config, logger: logs.logger });
    const producer = openProducer(config);
    const check = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    check.on('error', () => undefined); // refused while Redis restarts: expected
    try {
      const keysList = Array.from({ length: 30 }, (_, i) => `restart-${i}`);
      await producer.enqueueMany(
        keysList.map((k, i) => ({
          action: 'deactivate' as const,
          accountId: simAccountId(i + 1),
          idempotencyKey: k,
          source: 'manual' as const,
        })),
      );
      await waitFor(
        () => (sim && sim.stats().requests >= 5 ? true : undefined),
        10_000,
        'some progress',
      );
      await redisServer.restart(500);
      const keys = keysFor(config.prefix);
      await waitFor(
        async () =>
          (await intentStates(check, keys, keysList)).every((s) => s === 'succeeded')
            ? true
            : undefined,
        30_000,
        'all jobs to succeed after the restart',
      );
      expect(sim.stats().executions.total).toBe(30);
      for (const k of keysList) expect(sim.stats().executions.byKey[k]).toBe(1);
    } finally {
      await worker.close(2_000);
      await producer.close();
      await check.quit();
    }
  });
});
