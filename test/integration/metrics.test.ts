/**
 * GET /metrics after real work: actions through the real pipeline and the simulator (a
 * success, a 429 put-back, a 409 failure, a superseded intent), a breaker trip, signed and
 * unsigned webhooks and an unresolved one through the inbox consumer, a short maintenance
 * window; queue depths and breaker states read from Redis at scrape. The registry is the
 * process's, shared by the tests of this file: counters are compared before and after.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { METRIC_PREFIX } from '../../src/metrics/metrics.js';
import { startBreakerService, type BreakerService } from '../../src/ops/breaker-service.js';
import { openBreaker } from '../../src/ops/breaker.js';
import { startWindowService, type WindowService } from '../../src/ops/window-service.js';
import { openWindows } from '../../src/ops/windows.js';
import { webhookSignature } from '../../src/sendmux/webhook-signature.js';
import { SIM_LOCKED_ID, simAccountId } from '../../src/sim/index.js';
import { runCli } from '../support/cli-process.js';
import { waitFor } from '../support/context.js';
import { manualIntent, startPipeline, type Pipeline } from '../support/pipeline.js';

const ADMIN = 'admin-token-metrics-0123456';
const SECRET = 'whsec_metrics_test_1';
const auth = { authorization: `Bearer ${ADMIN}` };
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });

let p: Pipeline | undefined;
let app: HttpServer | undefined;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await app?.close();
  await p?.stop();
  app = undefined;
  p = undefined;
});

async function setup(options: Parameters<typeof startPipeline>[0] = {}) {
  p = await startPipeline(options);
  const config: Config = { ...p.config, adminToken: ADMIN, webhookSecret: SECRET };
  app = await buildServer({ config, redis: p.redis, logger });
  return { p, app, config };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus's text format, sample by sample. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[k ?? ''] = v ?? '';
    }
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

/** A scrape: `value(name, labels)` sums the samples of `name` whose labels include `labels`. */
async function scrape(server: HttpServer) {
  const res = await server.inject({ method: 'GET', url: '/metrics', headers: auth });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = parse(res.body);
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples
      .filter(
        (s) =>
          s.name === `${METRIC_PREFIX}${name}` &&
          Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      )
      .reduce((sum, s) => sum + s.value, 0);
  const has = (name: string, labels: Record<string, string> = {}) =>
    samples.some(
      (s) =>
        s.name === `${METRIC_PREFIX}${name}` &&
        Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  return { text: res.body, samples, value, has };
}

describe('GET /metrics', () => {
  it('needs the admin token and serves the text format with process metrics', async () => {
    const { app } = await setup({ workers: 0 });
    const open = await app.inject({ method: 'GET', url: '/metrics' });
    expect(open.statusCode).toBe(401);
    const wrong = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    expect(wrong.statusCode).toBe(401);
    const m = await scrape(app);
    expect(m.samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(m.samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    expect(m.text).toContain(`# TYPE ${METRIC_PREFIX}actions_total counter`);
    expect(m.text).toContain(`# TYPE ${METRIC_PREFIX}api_request_duration_seconds histogram`);
  });

  it('counts outcomes, API calls by status, latency and 429 put-backs from the real pipeline', async () => {
    // A 1 s window at the simulator: its 429 says to wait until then (Retry-After, reset).
    const { p, app } = await setup({ workers: 0, sim: { rateLimit: 0, rateWindowMs: 1_000 } });
    const before = await scrape(app);
    const ok = simAccountId(1);
    const limited = simAccountId(2);
    const twice = simAccountId(3);
    p.sim.script(limited, [{ kind: 'status', status: 429, retryAfterS: 1 }]);
    await p.producer.enqueueMany([
      manualIntent(ok, 'm-ok'),
      manualIntent(limited, 'm-429'),
      manualIntent(SIM_LOCKED_ID, 'm-locked'),
      // The same account asked off, then on: the first is superseded before it calls.
      manualIntent(twice, 'm-first'),
      manualIntent(twice, 'm-second', 'activate'),
    ]);
    await p.addWorker();
    const states = await p.waitFor(['m-ok', 'm-429', 'm-locked', 'm-first', 'm-second']);
    expect(Object.fromEntries(states)).toEqual({
      'm-ok': 'succeeded',
      'm-429': 'succeeded',
      'm-locked': 'failed',
      'm-first': 'superseded',
      'm-second': 'succeeded',
    });
    const after = await scrape(app);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      after.value(name, labels) - before.value(name, labels);

    expect(delta('actions_total', { action: 'deactivate', outcome: 'succeeded' })).toBe(2);
    expect(delta('actions_total', { action: 'deactivate', outcome: 'failed' })).toBe(1);
    expect(delta('actions_total', { action: 'deactivate', outcome: 'superseded' })).toBe(1);
    expect(delta('actions_total', { action: 'activate', outcome: 'succeeded' })).toBe(1);
    // By the producer that asked: every intent here is a manual one.
    expect(delta('actions_total', { source: 'manual' })).toBe(5);
    expect(delta('actions_total', { source: 'bulk' })).toBe(0);

    const deactivate = { method: 'POST', route: '/providers/{id}/deactivate' };
    expect(delta('api_requests_total', { ...deactivate, status: '200' })).toBe(2);
    expect(delta('api_requests_total', { ...deactivate, status: '429' })).toBe(1);
    expect(delta('api_requests_total', { ...deactivate, status: '409' })).toBe(1);
    expect(
      delta('api_requests_total', {
        method: 'POST',
        route: '/providers/{id}/activate',
        status: '200',
      }),
    ).toBe(1);
    // A 409 conflict is verified by reading the account.
    expect(
      delta('api_requests_total', { method: 'GET', route: '/providers/{id}', status: '200' }),
    ).toBe(1);
    // No account id in any label.
    expect(after.text).not.toMatch(/dprov_/);

    const ok2xx = { operation: 'deactivate', status_class: '2xx' };
    expect(delta('api_request_duration_seconds_count', ok2xx)).toBe(2);
    expect(delta('api_request_duration_seconds_bucket', { ...ok2xx, le: '+Inf' })).toBe(2);
    expect(delta('api_request_duration_seconds_bucket', { ...ok2xx, le: '30' })).toBe(2);
    expect(delta('api_request_duration_seconds_sum', ok2xx)).toBeGreaterThan(0);
    expect(
      delta('api_request_duration_seconds_count', {
        operation: 'deactivate',
        status_class: '4xx',
      }),
    ).toBe(2);

    expect(delta('put_backs_total', { wait: 'rate_limit' })).toBe(1);
    expect(delta('rate_limit_waits_total', { cause: '429' })).toBe(1);
    // The 429 asked for 1 s: the queue was paused about that long.
    expect(delta('rate_limit_wait_seconds_total', { cause: '429' })).toBeGreaterThanOrEqual(0.9);
  });

  it('reads queue depths per queue and state at scrape time', async () => {
    const { p, app } = await setup({ workers: 0 });
    await p.producer.enqueueMany([4, 5, 6].map((i) => manualIntent(simAccountId(i), `depth-${i}`)));
    const m = await scrape(app);
    expect(m.value('queue_jobs', { queue: 'actions', state: 'waiting' })).toBe(3);
    expect(m.value('queue_jobs', { queue: 'actions', state: 'active' })).toBe(0);
    for (const queue of ['urgent', 'windows', 'notifications']) {
      expect(m.has('queue_jobs', { queue, state: 'waiting' }), queue).toBe(true);
      expect(m.value('queue_jobs', { queue, state: 'waiting' }), queue).toBe(0);
    }
    await p.addWorker();
    await p.waitFor(['depth-4', 'depth-5', 'depth-6']);
    const drained = await scrape(app);
    expect(drained.value('queue_jobs', { queue: 'actions', state: 'waiting' })).toBe(0);
    expect(drained.value('queue_jobs', { queue: 'actions', state: 'completed' })).toBe(3);
  });

  it('counts breaker trips by reason and reads breakers by state', async () => {
    const { p, app, config } = await setup({ workers: 1 });
    const before = await scrape(app);
    const breaker = openBreaker(config);
    closers.push(() => breaker.close());
    // One account with a signal (closed), one tripped by hand (open).
    await breaker.signal({
      id: 'sig-metrics-1',
      account_id: simAccountId(8),
      outcome: 'delivered',
      occurred_at: new Date().toISOString(),
    });
    const trip = await breaker.trip(simAccountId(9), 'metrics test');
    expect(trip.result).toBe('tripped');
    await waitFor(() => (p.sim.account(simAccountId(9))?.status === 'inactive' ? true : undefined));
    const after = await scrape(app);
    expect(
      after.value('breaker_trips_total', { reason: 'manual' }) -
        before.value('breaker_trips_total', { reason: 'manual' }),
    ).toBe(1);
    expect(after.value('breakers', { state: 'open' })).toBe(1);
    expect(after.value('breakers', { state: 'closed' })).toBe(1);
    expect(after.value('breakers', { state: 'half_open' })).toBe(0);
    // The deployment's count (this test's prefix: none before).
    expect(after.value('breaker_trips_shared_total', { reason: 'manual' })).toBe(1);
    expect(after.has('breaker_trips_shared_total', { reason: 'bounce_rate' })).toBe(false);
  });

  it('shows a trip made by another process (the CLI) in the serving process: breaker_trips_shared_total', async () => {
    const { app, config } = await setup({ workers: 0 });
    const before = await scrape(app);
    expect(before.value('breaker_trips_shared_total')).toBe(0);
    // `breaker trip` as an operator runs it: its own process, its own Redis connections.
    const cli = await runCli(
      ['breaker', 'trip', simAccountId(11), '--reason', 'by hand', '--json'],
      {
        REDIS_URL: config.redisUrl,
        QUEUE_PREFIX: config.prefix,
        LOG_LEVEL: 'silent',
      },
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ result: 'tripped', reason: 'manual' });
    const after = await scrape(app);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      after.value(name, labels) - before.value(name, labels);
    // This process's own counter did not see it; the deployment's count, read at scrape, did.
    expect(delta('breaker_trips_total')).toBe(0);
    expect(after.value('breaker_trips_shared_total', { reason: 'manual' })).toBe(1);
    expect(after.value('breakers', { state: 'open' })).toBe(1);
    // A second process tripping (the library, its own handle) adds to the same count.
    const other = openBreaker(config);
    closers.push(() => other.close());
    expect((await other.trip(simAccountId(12))).result).toBe('tripped');
    const again = await scrape(app);
    expect(again.value('breaker_trips_shared_total', { reason: 'manual' })).toBe(2);
    expect(again.value('breakers', { state: 'open' })).toBe(2);
  });

  it('counts webhooks accepted and rejected by the receiver, and unresolved ones', async () => {
    const { app, config } = await setup({ workers: 0 });
    // Without an API key and a sender map, no account can be found for any event.
    const service: BreakerService = await startBreakerService(
      { ...config, apiKey: undefined },
      logger,
      { tickMs: 100 },
    );
    closers.push(() => service.close());
    const before = await scrape(app);
    const id = `evt_metrics_${process.pid}_${Date.now()}`;
    const body = JSON.stringify({
      id,
      type: 'message.bounced',
      team_public_id: 'team_1',
      occurred_at: new Date().toISOString(),
      data: {
        message_id: `<${id}@nowhere.example>`,
        sender: 'someone@nowhere.example',
        bounce_type: 'Permanent',
      },
    });
    const post = (signature: string | undefined) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/sendmux',
        headers: {
          'content-type': 'application/json',
          'x-sendmux-event-id': id,
          ...(signature === undefined ? {} : { 'x-sendmux-signature': signature }),
        },
        payload: body,
      });
    expect((await post(webhookSignature(SECRET, body))).statusCode).toBe(202);
    expect((await post(webhookSignature(SECRET, body))).statusCode).toBe(200); // a retry
    expect((await post(undefined)).statusCode).toBe(401);
    expect((await post('sha256=00')).statusCode).toBe(401);
    const after = await waitFor(
      async () => {
        const m = await scrape(app);
        const unresolved =
          m.value('webhook_events_total', { result: 'unresolved' }) -
          before.value('webhook_events_total', { result: 'unresolved' });
        return unresolved >= 1 ? m : undefined;
      },
      10_000,
      'the inbox consumer to count the unresolved event',
    );
    const delta = (name: string, labels: Record<string, string> = {}) =>
      after.value(name, labels) - before.value(name, labels);
    expect(delta('webhooks_accepted_total')).toBe(1);
    expect(delta('webhooks_rejected_total', { reason: 'duplicate' })).toBe(1);
    expect(delta('webhooks_rejected_total', { reason: 'invalid_signature' })).toBe(2);
    expect(delta('webhook_events_total', { result: 'unresolved' })).toBe(1);
    expect(delta('webhook_events_total')).toBe(1);
  });

  it("reads the webhook inbox's backlog at scrape time: stored, then processed", async () => {
    const { app, config } = await setup({ workers: 0 });
    expect((await scrape(app)).value('webhook_inbox_backlog')).toBe(0);
    // Stored with no breaker consumer running: they wait in the inbox.
    for (const n of [1, 2, 3]) {
      const id = `evt_backlog_${process.pid}_${Date.now()}_${n}`;
      const body = JSON.stringify({
        id,
        type: 'message.bounced',
        team_public_id: 'team_1',
        occurred_at: new Date().toISOString(),
        data: { message_id: `<${id}@nowhere.example>`, sender: 'someone@nowhere.example' },
      });
      const r = await app.inject({
        method: 'POST',
        url: '/webhooks/sendmux',
        headers: {
          'content-type': 'application/json',
          'x-sendmux-signature': webhookSignature(SECRET, body),
        },
        payload: body,
      });
      expect(r.statusCode).toBe(202);
    }
    const waiting = await scrape(app);
    expect(waiting.has('webhook_inbox_backlog')).toBe(true);
    expect(waiting.value('webhook_inbox_backlog')).toBe(3);
    // A consumer processes them (unresolved: no API key, no sender map): the backlog drains.
    const service: BreakerService = await startBreakerService(
      { ...config, apiKey: undefined },
      logger,
      { tickMs: 100 },
    );
    closers.push(() => service.close());
    await waitFor(
      async () => ((await scrape(app)).value('webhook_inbox_backlog') === 0 ? true : undefined),
      10_000,
      'the inbox backlog to drain',
    );
  });

  it('counts window transitions: started and ended', async () => {
    const { p, app } = await setup({ workers: 1 });
    const service: WindowService = await startWindowService(p.config, logger);
    closers.push(() => service.close());
    const admin = openWindows(p.config);
    closers.push(() => admin.close());
    const before = await scrape(app);
    const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
    await admin.create({ accounts: [simAccountId(10)], start: inMs(300), end: inMs(1_500) });
    const after = await waitFor(
      async () => {
        const m = await scrape(app);
        const ended =
          m.value('window_transitions_total', { kind: 'ended' }) -
          before.value('window_transitions_total', { kind: 'ended' });
        return ended >= 1 ? m : undefined;
      },
      15_000,
      'the window to end',
    );
    expect(
      after.value('window_transitions_total', { kind: 'started' }) -
        before.value('window_transitions_total', { kind: 'started' }),
    ).toBe(1);
    expect(
      after.value('window_transitions_total', { kind: 'ended' }) -
        before.value('window_transitions_total', { kind: 'ended' }),
    ).toBe(1);
  });
});
