/**
 * `worker` with WORKER_METRICS_PORT: a real process serves /healthz and /readyz (public) and
 * /metrics (admin token) with the counts of its own work, and stops serving on SIGTERM.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { openProducer, type ProducerHandle } from '../../src/queue/open-producer.js';
import { freeLoopbackPort } from '../../src/redis/redis-server.js';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';
import { killAll, spawnCli, type CliProcess } from '../support/cli-process.js';
import { dropPrefix, testConfig, waitFor } from '../support/context.js';

const ADMIN = 'admin-token-worker-metrics-01';

let sim: Simulator | undefined;
let producer: ProducerHandle | undefined;
let config: Config | undefined;
const children: CliProcess[] = [];

afterEach(async () => {
  await killAll(children);
  await producer?.close();
  await sim?.close();
  if (config) await dropPrefix(config.prefix);
  sim = producer = config = undefined;
});

describe('worker with WORKER_METRICS_PORT', () => {
  it('serves /healthz, /readyz and /metrics (behind the token) until SIGTERM', async () => {
    sim = await startSimulator({ accounts: 5, rateLimit: 0 });
    config = testConfig({ baseUrl: sim.url, apiKey: 'smx_root_sim_key' });
    producer = openProducer(config);
    const port = await freeLoopbackPort();
    const worker = spawnCli(['worker'], {
      REDIS_URL: config.redisUrl,
      QUEUE_PREFIX: config.prefix,
      SENDMUX_BASE_URL: sim.url,
      SENDMUX_API_KEY: 'smx_root_sim_key',
      SENDMUX_RATE_LIMIT: '0',
      WORKER_METRICS_PORT: String(port),
      ADMIN_TOKEN: ADMIN,
    });
    children.push(worker);
    await worker.waitForOutput(/serving \/metrics/);
    const base = `http://127.0.0.1:${port}`;

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { redis: { ok: true } } });
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${base}/v1/whoami`, { headers: { authorization: `Bearer ${ADMIN}` } })).status,
    ).toBe(404);

    await producer.enqueue({
      action: 'deactivate',
      accountId: simAccountId(1),
      idempotencyKey: 'wm-1',
      source: 'manual',
      reason: 'e2e metrics',
    });
    const line =
      'sendmux_deactivator_actions_total{action="deactivate",outcome="succeeded",source="manual"} 1';
    const text = await waitFor(
      async () => {
        const res = await fetch(`${base}/metrics`, {
          headers: { authorization: `Bearer ${ADMIN}` },
        });
        expect(res.status).toBe(200);
        const body = await res.text();
        return body.includes(line) ? body : undefined;
      },
      15_000,
      'the worker to count its success',
    );
    expect(text).toMatch(
      /sendmux_deactivator_api_requests_total\{method="POST",route="\/providers\/\{id\}\/deactivate",status="200"\} 1/,
    );
    expect(text).toMatch(/sendmux_deactivator_queue_jobs\{queue="actions",state="completed"\} 1/);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
