/**
 * Who did what, over HTTP (issue 20 §4): with ADMIN_TOKENS naming several tokens, each
 * request's intents, holds, events and batch carry its token's name; a read-only token reads
 * everything and changes nothing (403 `forbidden`); the breaker's own trips say `breaker`, a
 * manual trip and a reset the token's name; a window's intents, holds and events say
 * `window:<id>`; data stored before actors existed (a hold, an event, a job) reads as null.
 * Real Redis, the real simulator, a real worker, the breaker and window services; the server
 * answers in-process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminToken } from '../../src/config/admin-tokens.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import type { StreamEvent } from '../../src/model.js';
import { startBreakerService, type BreakerService } from '../../src/ops/breaker-service.js';
import { startWindowService, type WindowService } from '../../src/ops/window-service.js';
import { openWindows, type WindowsHandle } from '../../src/ops/windows.js';
import { bulkKey } from '../../src/producers/bulk/run.js';
import { simAccountId } from '../../src/sim/index.js';
import { BT } from '../../src/store/batch-record.js';
import { resetBreaker } from '../../src/store/breaker-reset.js';
import { countAndTrip } from '../../src/store/breaker-trip.js';
import { EVENT_FIELD } from '../../src/store/event-codec.js';
import { readRecentEvents } from '../../src/store/events.js';
import { waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { manualIntent, startPipeline, type Pipeline } from '../support/pipeline.js';
import { TRIP_SETTINGS } from '../support/trip-settings.js';

sharedFixtures();

const TOKENS: AdminToken[] = [
  { name: 'alice', token: 'tok-alice-actors-0123456', kind: 'admin' },
  { name: 'bob', token: 'tok-bob-actors-0123456789', kind: 'admin' },
  { name: 'viewer', token: 'tok-viewer-actors-012345', kind: 'read' },
];
const as = (name: string) => {
  const t = TOKENS.find((x) => x.name === name);
  return { authorization: `Bearer ${t?.token ?? ''}` };
};
const basicAs = (name: string) => {
  const t = TOKENS.find((x) => x.name === name);
  return { authorization: `Basic ${Buffer.from(`x:${t?.token ?? ''}`).toString('base64')}` };
};
const [A, B, C, D] = [1, 2, 3, 4].map((n) => simAccountId(n)) as [string, string, string, string];

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
    adminTokens: TOKENS,
    breakerBounceMinVolume: 3,
    breakerBounceRate: 0.5,
  };
  const logger = createLogger({ level: 'silent', pretty: false });
  breaker = await startBreakerService(config, logger, { tickMs: 100 });
  windows = openWindows(config);
  windowService = await startWindowService(config, logger);
  app = await buildServer({ config, redis: p.redis, logger, breaker, windows });
  return { pipeline: p, app };
}

async function streamEvents(pipeline: Pipeline): Promise<StreamEvent[]> {
  return readRecentEvents(pipeline.redis, pipeline.keys, { limit: 10_000 });
}

interface HoldWire {
  id: string;
  actor: string | null;
}
async function holdsOf(app: HttpServer, account: string): Promise<HoldWire[]> {
  const res = await app.inject({ method: 'GET', url: `/v1/holds/${account}`, headers: as('bob') });
  return res.json<{ holds: HoldWire[] }>().holds;
}

describe('named admin tokens', () => {
  it("each request's intents, holds, events and batch carry its token's name", async () => {
    const { pipeline, app } = await start();
    for (const t of TOKENS) {
      const me = await app.inject({ method: 'GET', url: '/v1/whoami', headers: as(t.name) });
      expect(me.json()).toEqual({ ok: true, name: t.name, kind: t.kind });
    }
    for (const headers of [{ authorization: 'Bearer tok-nobody-actors-012345' }, {}]) {
      const res = await app.inject({ method: 'GET', url: '/v1/whoami', headers });
      expect(res.statusCode).toBe(401);
    }
    const keys: string[] = [];
    for (const [name, account] of [
      ['alice', A],
      ['bob', B],
    ] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/actions',
        headers: as(name),
        payload: { action: 'deactivate', accounts: [account] },
      });
      expect(res.statusCode).toBe(202);
      keys.push(
        res.json<{ reports: { idempotency_key: string }[] }>().reports[0]?.idempotency_key ?? '',
      );
    }
    const batch = await app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: as('alice'),
      payload: { ids: [C], batch_id: 'actors-1', include_shared: true },
    });
    expect(batch.statusCode).toBe(202);
    await pipeline.waitFor([...keys, bulkKey('actors-1', C)]);

    const by = new Map((await pipeline.events()).map((e) => [e.account_id, e.actor]));
    expect(Object.fromEntries(by)).toEqual({ [A]: 'alice', [B]: 'bob', [C]: 'alice' });
    expect(await holdsOf(app, A)).toMatchObject([{ id: 'manual', actor: 'alice' }]);
    expect(await holdsOf(app, B)).toMatchObject([{ id: 'manual', actor: 'bob' }]);
    expect(await holdsOf(app, C)).toMatchObject([{ id: 'bulk:actors-1', actor: 'alice' }]);
    expect(await pipeline.redis.hget(pipeline.keys.batch('actors-1'), BT.createdBy)).toBe('alice');
    const listed = await app.inject({ method: 'GET', url: '/v1/holds', headers: as('viewer') });
    expect(
      listed
        .json<{ accounts: { account_id: string; holds: HoldWire[] }[] }>()
        .accounts.map((a) => [a.account_id, a.holds[0]?.actor])
        .sort(),
    ).toEqual(
      [
        [A, 'alice'],
        [B, 'bob'],
        [C, 'alice'],
      ].sort(),
    );
    const events = await app.inject({
      method: 'GET',
      url: '/v1/events?type=action.succeeded',
      headers: as('viewer'),
    });
    expect(
      events
        .json<{ events: { actor: string | null }[] }>()
        .events.map((e) => e.actor)
        .sort(),
    ).toEqual(['alice', 'alice', 'bob']);
  });

  it('a read-only token reads every page and changes nothing (403 forbidden)', async () => {
    const { pipeline, app } = await start();
    for (const url of ['/v1/holds', '/v1/accounts', '/v1/events', '/', '/admin/queues']) {
      const res = await app.inject({ method: 'GET', url, headers: as('viewer') });
      expect(res.statusCode, url).toBe(200);
    }
    const head = await app.inject({ method: 'HEAD', url: '/v1/holds', headers: as('viewer') });
    expect(head.statusCode).toBe(200);
    const refused = [
      { method: 'POST', url: '/v1/actions', payload: { action: 'deactivate', accounts: [A] } },
      { method: 'POST', url: '/v1/batches', payload: { ids: [A], batch_id: 'viewer-1' } },
      { method: 'POST', url: `/v1/breakers/${A}/trip`, payload: {} },
      { method: 'POST', url: '/admin/queues/api/queues/actions/retry/failed', payload: {} },
      { method: 'PUT', url: '/admin/queues/api/queues/actions/pause', payload: {} },
    ] as const;
    for (const r of refused) {
      for (const headers of [
        as('viewer'),
        { ...basicAs('viewer'), 'sec-fetch-site': 'same-origin' },
      ]) {
        const res = await app.inject({ ...r, headers });
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
        expect(res.json()).toEqual({
          error: {
            code: 'forbidden',
            message: `${r.method} ${r.url}: the token "viewer" is read-only (ADMIN_TOKENS kind read)`,
          },
        });
      }
    }
    // Nothing enqueued, held, paused or recorded.
    const counts = await pipeline.producer.queue.getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await pipeline.producer.queue.isPaused()).toBe(false);
    expect(await holdsOf(app, A)).toEqual([]);
    expect(await streamEvents(pipeline)).toEqual([]);
    expect(await pipeline.redis.exists(pipeline.keys.batch('viewer-1'))).toBe(0);
  });
});

describe('the breaker and windows', () => {
  it("a rule's trip says breaker; a manual trip and a reset say who pressed", async () => {
    const { pipeline, app } = await start();
    // The breaker's own trip: three hard bounces over the rate.
    const signals = [1, 2, 3].map((i) => ({
      id: `sig-actors-${process.pid}-${i}`,
      account_id: A,
      outcome: 'bounced',
      bounce_type: 'Permanent',
      occurred_at: new Date().toISOString(),
    }));
    const signalled = await app.inject({
      method: 'POST',
      url: '/v1/signals',
      headers: as('bob'),
      payload: signals,
    });
    expect(signalled.statusCode, signalled.body).toBeLessThan(300);
    const manual = await app.inject({
      method: 'POST',
      url: `/v1/breakers/${B}/trip`,
      headers: as('alice'),
      payload: { reason: 'by hand' },
    });
    expect(manual.statusCode).toBe(200);
    await waitFor(
      async () => ((await pipeline.events('action.succeeded')).length === 2 ? true : undefined),
      15_000,
      'both deactivations',
    );
    const tripped = (await streamEvents(pipeline)).filter((e) => e.type === 'breaker.tripped');
    expect(Object.fromEntries(tripped.map((e) => [e.account_id, e.actor]))).toEqual({
      [A]: 'breaker',
      [B]: 'alice',
    });
    const offs = await pipeline.events('action.succeeded');
    expect(Object.fromEntries(offs.map((e) => [e.account_id, e.actor]))).toEqual({
      [A]: 'breaker',
      [B]: 'alice',
    });
    expect(await holdsOf(app, A)).toMatchObject([{ id: 'breaker', actor: 'breaker' }]);
    expect(await holdsOf(app, B)).toMatchObject([{ id: 'breaker', actor: 'alice' }]);

    // The status page's Reset button: Basic credentials from the same origin.
    const reset = await app.inject({
      method: 'POST',
      url: `/v1/breakers/${B}/reset`,
      headers: { ...basicAs('bob'), 'sec-fetch-site': 'same-origin' },
    });
    expect(reset.statusCode).toBe(200);
    const resetEvent = (await streamEvents(pipeline)).find((e) => e.type === 'breaker.reset');
    expect(resetEvent).toMatchObject({ account_id: B, actor: 'bob' });
    await waitFor(
      async () => ((await pipeline.events('action.succeeded')).length === 3 ? true : undefined),
      15_000,
      'the activation',
    );
    const on = (await pipeline.events('action.succeeded')).find((e) => e.action === 'activate');
    expect(on).toMatchObject({ account_id: B, actor: 'bob' });
  });

  it('a name that looks like a script placeholder is kept as it is (trip, reset)', async () => {
    const { pipeline } = await start();
    const odd = '__TRIP__"__KEY__%1';
    const settings = { windowS: 900, eventsMaxLen: 1000 };
    const trip = await countAndTrip(
      pipeline.redis,
      pipeline.keys,
      { accountId: C, force: true, actor: odd },
      TRIP_SETTINGS,
    );
    expect(trip.result).toBe('tripped');
    await resetBreaker(pipeline.redis, pipeline.keys, C, settings, new Date(), odd);
    const events = (await streamEvents(pipeline)).filter((e) => e.type.startsWith('breaker.'));
    expect(events.map((e) => [e.type, 'actor' in e ? e.actor : undefined])).toEqual([
      ['breaker.tripped', odd],
      ['breaker.reset', odd],
    ]);
    expect(events[0]).toMatchObject({ trip_id: expect.stringMatching(/^\d+-1$/) as unknown });
  });

  it("a window's intents, holds and events say window:<id>; its record who made it", async () => {
    const { pipeline, app } = await start();
    const created = await app.inject({
      method: 'POST',
      url: '/v1/windows',
      headers: as('alice'),
      payload: {
        id: 'actors-w',
        accounts: [D],
        start: new Date(Date.now() + 300).toISOString(),
        end: new Date(Date.now() + 60_000).toISOString(),
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ created_by: 'alice', cancelled_by: null });
    await waitFor(
      async () => ((await pipeline.events('action.succeeded')).length === 1 ? true : undefined),
      15_000,
      'the window switched it off',
    );
    expect((await pipeline.events())[0]).toMatchObject({ account_id: D, actor: 'window:actors-w' });
    expect(await holdsOf(app, D)).toMatchObject([{ actor: 'window:actors-w' }]);
    const cancelled = await app.inject({
      method: 'POST',
      url: '/v1/windows/actors-w/cancel',
      headers: as('bob'),
    });
    expect(cancelled.statusCode).toBe(200);
    const shown = await app.inject({
      method: 'GET',
      url: '/v1/windows/actors-w',
      headers: as('viewer'),
    });
    expect(shown.json()).toMatchObject({ created_by: 'alice', cancelled_by: 'bob' });
    const windowEvents = (await streamEvents(pipeline)).filter((e) => e.type.startsWith('window.'));
    expect(windowEvents.map((e) => [e.type, 'actor' in e ? e.actor : undefined])).toEqual([
      ['window.started', 'window:actors-w'],
      ['window.ended', 'window:actors-w'],
    ]);
  });
});

describe('data stored before actors existed', () => {
  it('a hold, an event and a job without an actor read as null', async () => {
    const { pipeline, app } = await start();
    // A job as an older version queued it: no `actor` in its data.
    const [enqueued] = await pipeline.producer.enqueueMany([manualIntent(A, 'old-job-1')]);
    const job = await pipeline.producer.queue.getJob(enqueued?.jobId ?? '');
    expect(job?.data).not.toHaveProperty('actor');
    await pipeline.waitFor(['old-job-1']);
    expect((await pipeline.events())[0]).toMatchObject({
      idempotency_key: 'old-job-1',
      actor: null,
    });

    // A hold as an older version stored it.
    const old = { source: 'manual', ref: 'k', reason: 'old', at: '2026-01-01T00:00:00.000Z' };
    await pipeline.redis.hset(pipeline.keys.holds(B), 'h:manual', JSON.stringify(old));
    expect(await holdsOf(app, B)).toEqual([
      { id: 'manual', source: 'manual', ref: 'k', reason: 'old', actor: null, at: old.at },
    ]);

    // An event as an older version wrote it.
    const oldEvent = {
      type: 'breaker.reset',
      account_id: C,
      trip_id: 't-1',
      idempotency_key: null,
      still_held_by: [],
      base: 'active',
      at: '2026-01-01T00:00:00.000Z',
    };
    await pipeline.redis.xadd(pipeline.keys.events, '*', EVENT_FIELD, JSON.stringify(oldEvent));
    const res = await app.inject({
      method: 'GET',
      url: '/v1/events?type=breaker.reset',
      headers: as('viewer'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ events: unknown[] }>().events).toEqual([
      { id: expect.any(String) as unknown, ...oldEvent, actor: null },
    ]);
  });
});
