/**
 * While Redis is unreachable (a throwaway redis-server killed) or frozen (SIGSTOP), the public
 * webhook receiver answers 503 with Retry-After within WEBHOOK_REDIS_TIMEOUT_MS (Sendmux
 * retries), not a 500 after ioredis's retries; POST /v1/actions answers 503 `redis_unavailable`
 * within HTTP_ACTIONS_TIMEOUT_MS. Once Redis is back, both work again.
 *
 * The server's connection is made as `serve` makes it (2 retries per command, 5 s command
 * timeout): before the fix a webhook took over 5 s to get a 500.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { webhookSignature } from '../../src/sendmux/webhook-signature.js';
import { simAccountId } from '../../src/sim/index.js';
import { testConfig, waitFor } from '../support/context.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/throwaway-redis.js';

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
const SECRET = 'whsec_outage_test_1234';
const ADMIN = 'admin-token-outage-0123456789';

let app: HttpServer | undefined;
let redis: Redis | undefined;
let throwaway: ThrowawayRedis | undefined;
let frozenPid: number | undefined;
afterEach(async () => {
  if (frozenPid !== undefined) process.kill(frozenPid, 'SIGCONT');
  await app?.close();
  redis?.disconnect();
  await throwaway?.stop();
  app = redis = throwaway = frozenPid = undefined;
});

async function start(overrides: Partial<Config> = {}): Promise<HttpServer> {
  throwaway = await startThrowawayRedis();
  const config = testConfig({
    redisUrl: throwaway.url,
    adminToken: ADMIN,
    webhookSecret: SECRET,
    webhookRedisTimeoutMs: 500,
    actionsTimeoutMs: 1_500,
    ...overrides,
  });
  // As serve.ts makes it.
  redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, commandTimeout: 5_000 });
  redis.on('error', () => undefined);
  await waitFor(() => (redis?.status === 'ready' ? true : undefined), 5_000, 'Redis ready');
  app = await buildServer({ config, redis, logger });
  return app;
}

let n = 0;
async function webhook(server: HttpServer) {
  const body = JSON.stringify({
    id: `evt_outage_${n++}`,
    type: 'message.delivered',
    occurred_at: new Date().toISOString(),
    data: { message_id: 'm1@example.com', sender: 'news@example.com' },
  });
  const started = performance.now();
  const res = await server.inject({
    method: 'POST',
    url: '/webhooks/sendmux',
    headers: {
      'content-type': 'application/json',
      'x-sendmux-signature': webhookSignature(SECRET, body),
    },
    payload: body,
  });
  return { res, ms: performance.now() - started, body };
}

async function postAction(server: HttpServer, account: string) {
  const started = performance.now();
  const res = await server.inject({
    method: 'POST',
    url: '/v1/actions',
    headers: { authorization: `Bearer ${ADMIN}` },
    payload: { action: 'deactivate', accounts: [account] },
  });
  return { res, ms: performance.now() - started };
}

function expectUnavailable(res: Awaited<ReturnType<typeof webhook>>['res']): void {
  expect(res.statusCode).toBe(503);
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(res.json()).toMatchObject({
    error: { code: 'redis_unavailable', message: expect.stringContaining('Redis') as unknown },
  });
}

describe('the public port while Redis is away', () => {
  it('answers 503 with Retry-After at once while Redis is unreachable, and works again after', async () => {
    const server = await start();
    expect((await webhook(server)).res.statusCode).toBe(202);
    expect((await postAction(server, simAccountId(1))).res.statusCode).toBe(202);

    const outage = throwaway?.restart(4_000); // killed now, back on its port in 4 s
    await waitFor(() => (redis?.status !== 'ready' ? true : undefined), 3_000, 'a disconnect');
    const hook = await webhook(server);
    expectUnavailable(hook.res);
    expect(hook.ms).toBeLessThan(2_000);
    const action = await postAction(server, simAccountId(2));
    expectUnavailable(action.res);
    expect(action.ms).toBeLessThan(2_000);

    await outage;
    await waitFor(() => (redis?.status === 'ready' ? true : undefined), 15_000, 'a reconnect');
    expect((await webhook(server)).res.statusCode).toBe(202);
    expect((await postAction(server, simAccountId(3))).res.statusCode).toBe(202);
  });

  it('answers 503 within its time limit while Redis is frozen (SIGSTOP), and works again after', async () => {
    const server = await start();
    expect((await webhook(server)).res.statusCode).toBe(202);
    const info = await (redis as Redis).info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGSTOP');
    frozenPid = pid;

    // Connected, no answer: WEBHOOK_REDIS_TIMEOUT_MS (500 ms) bounds the webhook...
    const hook = await webhook(server);
    expectUnavailable(hook.res);
    expect(hook.ms).toBeGreaterThanOrEqual(450);
    expect(hook.ms).toBeLessThan(3_000);
    // ...and HTTP_ACTIONS_TIMEOUT_MS (1.5 s) the admin enqueue.
    const action = await postAction(server, simAccountId(4));
    expectUnavailable(action.res);
    expect(action.ms).toBeGreaterThanOrEqual(1_400);
    expect(action.ms).toBeLessThan(4_000);

    process.kill(pid, 'SIGCONT');
    frozenPid = undefined;
    // Sendmux retries the refused delivery: stored once (the late store marked it seen).
    await waitFor(() => (redis?.status === 'ready' ? true : undefined), 5_000, 'Redis back');
    const retried = await server.inject({
      method: 'POST',
      url: '/webhooks/sendmux',
      headers: {
        'content-type': 'application/json',
        'x-sendmux-signature': webhookSignature(SECRET, hook.body),
      },
      payload: hook.body,
    });
    expect([200, 202]).toContain(retried.statusCode);
    expect((await webhook(server)).res.statusCode).toBe(202);
    expect((await postAction(server, simAccountId(5))).res.statusCode).toBe(202);
  });
});
