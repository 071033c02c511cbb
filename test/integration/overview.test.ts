/**
 * GET /v1/overview: what the status page shows, from real data made through the admin API
 * (a manual deactivation, a breaker trip and signals, a running and an upcoming window, an
 * action the simulator refuses, webhook events counted for no account), and its bounds. Real Redis, the simulator, a worker, the
 * breaker service and the windows service; the server answers in-process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { startBreakerService, type BreakerService } from '../../src/ops/breaker-service.js';
import { overviewReader } from '../../src/ops/overview.js';
import { startWindowService, type WindowService } from '../../src/ops/window-service.js';
import { openWindows, type WindowsHandle } from '../../src/ops/windows.js';
import { SIM_LOCKED_ID, simAccountId } from '../../src/sim/index.js';
import { countWebhookResult } from '../../src/store/webhook-stats.js';
import type { OverviewView } from '../../src/wire/index.js';
import { waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { weeklyCronAwayFromNow } from '../support/weekly-cron.js';

/** Days away whatever day the test runs, so it is upcoming and after the one-hour window. */
const WEEKLY = weeklyCronAwayFromNow();

sharedFixtures();

const ADMIN = 'admin-token-overview-0123';
const auth = { authorization: `Bearer ${ADMIN}` };
const OFF = simAccountId(1);
const TRIPPED = simAccountId(2);
const SIGNALLED = simAccountId(3);
const IN_WINDOW = simAccountId(4);
const LATER = simAccountId(5);

let p: Pipeline | undefined;
let breaker: BreakerService | undefined;
let windows: WindowsHandle | undefined;
let windowService: WindowService | undefined;
let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close();
  await windowService?.close();
  await windows?.close();
  await breaker?.close();
  await p?.stop();
  app = windowService = windows = breaker = p = undefined;
});

async function start() {
  p = await startPipeline({ workers: 1, sim: { accounts: 10 } });
  const config = {
    ...p.config,
    adminToken: ADMIN,
    breakerBounceMinVolume: 1_000,
    breakerAccountRules: JSON.stringify({ [SIGNALLED]: { bounce_rate: 0.5 } }),
  };
  const logger = createLogger({ level: 'silent', pretty: false });
  breaker = await startBreakerService(config, logger, { tickMs: 100 });
  windows = openWindows(config);
  windowService = await startWindowService(config, logger);
  app = await buildServer({ config, redis: p.redis, logger, breaker, windows });
  return { pipeline: p, app, config };
}

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

describe('GET /v1/overview', () => {
  it('shows accounts with holds, breakers with rates, windows and failures', async () => {
    const { pipeline, app } = await start();
    const post = (url: string, payload?: unknown) =>
      app.inject({ method: 'POST', url, headers: auth, payload: payload as object });

    expect(
      (await post('/v1/actions', { action: 'deactivate', accounts: [OFF], reason: 'by hand' }))
        .statusCode,
    ).toBe(202);
    expect(
      (await post('/v1/actions', { action: 'deactivate', accounts: [SIM_LOCKED_ID] })).statusCode,
    ).toBe(202);
    expect((await post(`/v1/breakers/${TRIPPED}/trip`, { reason: 'spike' })).statusCode).toBe(200);
    const signal = (i: number, outcome: string) => ({
      id: `ov-${i}`,
      account_id: SIGNALLED,
      outcome,
      ...(outcome === 'bounced' ? { bounce_type: 'Permanent' } : {}),
      occurred_at: new Date().toISOString(),
    });
    expect(
      (
        await post('/v1/signals', [
          signal(1, 'delivered'),
          signal(2, 'delivered'),
          signal(3, 'delivered'),
          signal(4, 'bounced'),
        ])
      ).statusCode,
    ).toBe(200);
    const created = [
      await post('/v1/windows', {
        id: 'ov-now',
        accounts: [IN_WINDOW],
        start: inMs(200),
        end: inMs(60_000),
        reason: 'now',
      }),
      await post('/v1/windows', {
        id: 'ov-later',
        accounts: [LATER],
        start: inMs(3_600_000),
        end: inMs(7_200_000),
        reason: 'later',
      }),
      await post('/v1/windows', {
        id: 'ov-weekly',
        accounts: [LATER],
        cron: WEEKLY.cron,
        duration: '2h',
        tz: 'Europe/Berlin',
      }),
    ];
    expect(created.map((c) => c.statusCode)).toEqual([201, 201, 201]);
    await waitFor(
      () =>
        pipeline.sim.account(OFF)?.status === 'inactive' &&
        pipeline.sim.account(TRIPPED)?.status === 'inactive' &&
        pipeline.sim.account(IN_WINDOW)?.status === 'inactive'
          ? true
          : undefined,
      15_000,
      'the accounts off',
    );

    let o: OverviewView | undefined;
    await waitFor(async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/overview', headers: auth });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      o = res.json<OverviewView>();
      // The simulator changes an account before the worker records the outcome: wait for the
      // four outcomes, not only for the simulator.
      const recorded = o.accounts.filter((a) => a.last_outcome).length;
      return o.failures.length > 0 && o.windows.running.length > 0 && recorded === 4
        ? true
        : undefined;
    }, 15_000);
    if (!o) throw new Error('no overview');

    const account = (id: string) => o?.accounts.find((a) => a.account_id === id);
    expect(account(OFF)).toMatchObject({
      is_active: false,
      last_action: 'deactivate',
      last_outcome: 'succeeded',
      source: 'manual',
      reason: 'by hand',
      holds: [{ id: 'manual', source: 'manual' }],
      held_before: 'active',
    });
    expect(account(TRIPPED)?.holds.map((h) => h.id)).toEqual(['breaker']);
    expect(account(IN_WINDOW)?.holds[0]?.id).toMatch(/^window:ov-now:/);
    // The refused deactivation still holds the account (the manual hold is taken first).
    expect(account(SIM_LOCKED_ID)).toMatchObject({
      last_outcome: 'failed',
      holds: [{ id: 'manual' }],
    });
    // Held accounts come first.
    const heldFirst = o.accounts.findIndex((a) => a.holds.length === 0);
    expect(heldFirst === -1 || o.accounts.slice(heldFirst).every((a) => a.holds.length === 0)).toBe(
      true,
    );

    const tripped = o.breakers.find((b) => b.account_id === TRIPPED);
    expect(tripped).toMatchObject({
      state: 'open',
      trips: 1,
      last_trip: { reason: 'manual' },
      rules: { bounce_min_volume: 1_000 },
    });
    expect(o.breakers.find((b) => b.account_id === SIGNALLED)).toMatchObject({
      state: 'closed',
      window: { delivered: 3, hard_bounced: 1, bounce_rate: 0.25, complaint_rate: 0 },
      rules: { bounce_rate: 0.5, window_s: 900 },
    });
    expect(o.can_reset_breakers).toBe(true);

    expect(o.windows.available).toBe(true);
    expect(o.windows.running).toEqual([
      expect.objectContaining({
        window_id: 'ov-now',
        state: 'started',
        reason: 'now',
        targets: { kind: 'accounts', text: '1 account', account_ids: [IN_WINDOW], count: 1 },
      }),
    ]);
    expect(o.windows.upcoming.map((u) => u.window_id)).toEqual(['ov-later', 'ov-weekly']);
    expect(o.windows.upcoming[0]).toMatchObject({ kind: 'once', schedule: null, reason: 'later' });
    expect(o.windows.upcoming[1]).toMatchObject({
      kind: 'recurring',
      schedule: `${WEEKLY.cron} (Europe/Berlin) for 2h`,
    });
    expect(o.windows.upcoming[1]?.next_starts).toHaveLength(3);

    expect(o.failures).toHaveLength(1);
    expect(o.failures[0]).toMatchObject({
      type: 'action.failed',
      account_id: SIM_LOCKED_ID,
      action: 'deactivate',
    });
    expect(o.failures[0]?.error_code).toBeTruthy();
    // Held is not off: the locked account is held and still on (issue 20 §3).
    expect(o.totals).toMatchObject({
      accounts: 4,
      held: 4,
      held_off: 3,
      held_still_on: 1,
      windows: 3,
    });
    expect(o.truncated).toEqual({ accounts: false, breakers: false, windows: false });
    expect(o.limits).toMatchObject({ accounts: 200, failures: 50 });
  });

  it('is bounded, and says so; behind the token', async () => {
    const { pipeline, app, config } = await start();
    expect((await app.inject({ method: 'GET', url: '/v1/overview' })).statusCode).toBe(401);
    const ids = [1, 2, 3].map((i) => simAccountId(i));
    const res = await app.inject({
      method: 'POST',
      url: '/v1/actions',
      headers: auth,
      payload: { action: 'deactivate', accounts: ids },
    });
    expect(res.statusCode).toBe(202);
    const states = await waitFor(async () => {
      const s = await Promise.all(ids.map((id) => pipeline.status(id)));
      return s.every((x) => x?.last_outcome === 'succeeded') ? s : undefined;
    });
    expect(states).toHaveLength(3);
    // Two ambiguous webhook events and an unresolved one: the latest one of each is shown.
    const event = (id: string) => ({
      event_id: id,
      type: 'message.bounced',
      sender: 'shared@shop.example',
      message_id: `<${id}@shop.example>`,
      at: new Date().toISOString(),
    });
    for (const id of ['evt_amb_1', 'evt_amb_2']) {
      await countWebhookResult(pipeline.redis, pipeline.keys, 'ambiguous', {
        ...event(id),
        candidates: [ids[0] ?? '', ids[1] ?? ''],
        via: 'from_email',
      });
    }
    await countWebhookResult(pipeline.redis, pipeline.keys, 'unresolved', event('evt_unres'));
    const read = overviewReader(
      { config, redis: pipeline.redis, breakerRoutes: false },
      { accounts: 2, breakers: 1, windows: 1, failures: 1, events_scanned: 2, webhook_events: 1 },
    );
    const o = await read();
    expect(o.accounts).toHaveLength(2);
    expect(o.totals.accounts).toBe(3);
    expect(o.truncated.accounts).toBe(true);
    expect(o.failures_scanned).toBe(2);
    expect(o.windows).toEqual({ available: false, running: [], upcoming: [] });
    expect(o.can_reset_breakers).toBe(false);
    expect(o.webhooks.results).toMatchObject({ ambiguous: 2, unresolved: 1 });
    expect(o.webhooks.ambiguous).toEqual([
      {
        ...event('evt_amb_2'),
        at: expect.any(String) as string,
        candidates: ids.slice(0, 2),
        via: 'from_email',
      },
    ]);
    expect(o.webhooks.unresolved.map((e) => e.event_id)).toEqual(['evt_unres']);
  });
});
