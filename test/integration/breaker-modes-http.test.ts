/**
 * Breaker modes and warning levels end to end: signed Sendmux webhooks -> the HTTP server's
 * inbox -> the breaker service -> (in mode act) the deactivate call at the simulator; the
 * failure webhooks (CloudEvents) a real receiver gets; the run-time mode over HTTP with its
 * actor; the overview the status page reads. Real Redis, the real simulator, a real worker, a
 * real notifier.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminToken } from '../../src/config/admin-tokens.js';
import type { Config } from '../../src/config.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { startNotifier, type Notifier } from '../../src/notify/notifier.js';
import { startBreakerService, type BreakerService } from '../../src/ops/breaker-service.js';
import { webhookSignature } from '../../src/sendmux/webhook-signature.js';
import { simAccountId } from '../../src/sim/index.js';
import { readRecentEvents } from '../../src/store/events.js';
import { waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

sharedFixtures();

const SECRET = 'whsec_breaker_modes_1';
const NOTIFY_SECRET = 'notify-secret-breaker-modes';
const TOKENS: AdminToken[] = [
  { name: 'ops', token: 'tok-ops-breaker-modes-0123', kind: 'admin' },
  { name: 'viewer', token: 'tok-viewer-breaker-modes-01', kind: 'read' },
];
const as = (name: string) => ({
  authorization: `Bearer ${TOKENS.find((t) => t.name === name)?.token ?? ''}`,
});
const [A, B, C] = [1, 2, 3].map((n) => simAccountId(n)) as [string, string, string];
const SENDERS: Record<string, string> = {
  [A]: 'news@a.example',
  [B]: 'news@b.example',
  [C]: 'news@c.example',
};

interface CloudEventJson {
  id: string;
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

let p: Pipeline | undefined;
let service: BreakerService | undefined;
let notifier: Notifier | undefined;
let receiver: Server | undefined;
let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close();
  receiver?.closeAllConnections();
  const server = receiver;
  if (server) {
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
  await notifier?.close();
  await service?.close();
  await p?.stop();
  app = service = notifier = receiver = p = undefined;
});

/** Bounces warn at 25 % and trip at 50 % of at least 4 (delivered + bounced). */
async function start(overrides: Partial<Config> = {}) {
  p = await startPipeline({ workers: 1, sim: { accounts: 10 } });
  const received: CloudEventJson[] = [];
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as CloudEventJson);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  const config: Config = {
    ...p.config,
    adminTokens: TOKENS,
    webhookSecret: SECRET,
    notifyUrl: `http://127.0.0.1:${port}/hooks`,
    notifySecret: NOTIFY_SECRET,
    breakerBounceMinVolume: 4,
    breakerBounceRate: 0.5,
    breakerBounceWarnRate: 0.25,
    breakerSenderMap: JSON.stringify(
      Object.fromEntries(Object.entries(SENDERS).map(([id, sender]) => [sender, id])),
    ),
    ...overrides,
  };
  const logger = createLogger({ level: 'silent', pretty: false });
  notifier = await startNotifier(config, logger, { backoffBaseMs: 20 });
  service = await startBreakerService(config, logger, { tickMs: 100 });
  app = await buildServer({ config, redis: p.redis, logger, breaker: service });
  return { pipeline: p, app, received };
}

let n = 0;
/** Signed webhooks for `account`: `d` delivered, then `h` hard bounces; all answered 202. */
async function send(server: HttpServer, account: string, d: number, h: number): Promise<void> {
  for (let i = 0; i < d + h; i++) {
    const id = `evt_modes_${process.pid}_${++n}`;
    const type = i < d ? 'message.delivered' : 'message.bounced';
    const body = JSON.stringify({
      id,
      type,
      team_public_id: 'team_1',
      occurred_at: new Date().toISOString(),
      data: {
        message_id: `<${id}@example>`,
        sender: SENDERS[account],
        ...(type === 'message.bounced' ? { bounce_type: 'Permanent' } : {}),
      },
    });
    const answer = await server.inject({
      method: 'POST',
      url: '/webhooks/sendmux',
      headers: {
        'content-type': 'application/json',
        'x-sendmux-signature': webhookSignature(SECRET, body),
        'x-sendmux-event-id': id,
      },
      payload: body,
    });
    expect(answer.statusCode).toBe(202);
  }
}

/** Waits until the breaker service processed every webhook sent so far. */
async function processed(server: HttpServer): Promise<void> {
  await waitFor(async () => {
    const stats = await server.inject({
      method: 'GET',
      url: '/v1/webhooks/stats',
      headers: as('ops'),
    });
    const body = stats.json<{ inbox: { backlog: number } }>();
    return body.inbox.backlog === 0 || undefined;
  });
}

const breakerTypes = async (pipeline: Pipeline) =>
  (await readRecentEvents(pipeline.redis, pipeline.keys, { limit: 1000 }))
    .filter((e) => e.type.startsWith('breaker.'))
    .map((e) => `${e.type} ${'account_id' in e ? String(e.account_id) : ''}`);

const deactivations = (pipeline: Pipeline, account: string) =>
  pipeline.sim.stats().executions.byAccount[account]?.deactivate ?? 0;

describe('breaker modes end to end', () => {
  it('watch: the crossings are events only (no call, no notification, not on the page); act trips', async () => {
    const { pipeline, app, received } = await start({ breakerMode: 'watch' });
    // A: 1 hard of 4 (warning level), then 3 of 6 (trip level).
    await send(app, A, 3, 1);
    await send(app, A, 0, 2);
    await processed(app);
    expect(await breakerTypes(pipeline)).toEqual([
      `breaker.warned ${A}`,
      `breaker.would_trip ${A}`,
    ]);
    const status = await app.inject({
      method: 'GET',
      url: `/v1/breakers/${A}`,
      headers: as('ops'),
    });
    expect(status.json()).toMatchObject({
      state: 'closed',
      trips: 0,
      mode: { mode: 'watch', from: 'settings' },
      warning: 'would_trip',
      last_would_trip: { reason: 'bounce_rate', mode: 'watch', numbers: { hard_bounced: 3 } },
      holds: { holds: [] },
    });
    // Watching is silent: the page does not show it as a warning.
    const overview = await app.inject({ method: 'GET', url: '/v1/overview', headers: as('ops') });
    const row = overview
      .json<{ breakers: { account_id: string; warning: string | null }[] }>()
      .breakers.find((b) => b.account_id === A);
    expect(row).toMatchObject({ warning: null });
    // The control: a manual trip of B is notified, so the notifier was running all along and
    // A's watch-mode events before it were passed over.
    const trip = await app.inject({
      method: 'POST',
      url: `/v1/breakers/${B}/trip`,
      headers: as('ops'),
    });
    expect(trip.statusCode).toBe(200);
    await waitFor(() => received.find((e) => e.type.endsWith('breaker.tripped')));
    expect(received.map((e) => e.type)).toEqual(['ai.sendmux.deactivator.breaker.tripped']);
    await waitFor(() => pipeline.sim.account(B)?.status === 'inactive' || undefined);
    expect(pipeline.sim.account(A)?.status).toBe('active');
    expect(deactivations(pipeline, A)).toBe(0);
  });

  it('warn set at run time by a named token: would_trip is notified and on the page; no call', async () => {
    const { pipeline, app, received } = await start();
    const viewer = await app.inject({
      method: 'PUT',
      url: '/v1/breaker/mode',
      headers: as('viewer'),
      payload: { default: true, mode: 'warn' },
    });
    expect(viewer.statusCode).toBe(403);
    const bad = await app.inject({
      method: 'PUT',
      url: '/v1/breaker/mode',
      headers: as('ops'),
      payload: { mode: 'pause', account_id: A },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { message: string } }>().error.message).toMatch(/mode/);
    const neither = await app.inject({
      method: 'PUT',
      url: '/v1/breaker/mode',
      headers: as('ops'),
      payload: { mode: 'warn' },
    });
    expect(neither.statusCode).toBe(400);
    expect(neither.json<{ error: { message: string } }>().error.message).toMatch(/account_id/);
    const set = await app.inject({
      method: 'PUT',
      url: '/v1/breaker/mode',
      headers: as('ops'),
      payload: { default: true, mode: 'warn' },
    });
    expect(set.json()).toEqual({ account_id: null, mode: 'warn', previous: null, changed: true });
    const modes = await app.inject({
      method: 'GET',
      url: '/v1/breaker/mode',
      headers: as('viewer'),
    });
    expect(modes.json()).toEqual({
      default: { mode: 'warn', from: 'runtime', settings: 'act' },
      accounts: [],
    });
    const changed = (await readRecentEvents(pipeline.redis, pipeline.keys, { limit: 100 })).find(
      (e) => e.type === 'breaker.mode_changed',
    );
    expect(changed).toMatchObject({ account_id: null, mode: 'warn', previous: null, actor: 'ops' });

    await send(app, A, 2, 2); // 2 of 4: the trip level
    await processed(app);
    const notified = await waitFor(() =>
      received.find((e) => e.type === 'ai.sendmux.deactivator.breaker.would_trip'),
    );
    expect(notified).toMatchObject({
      subject: A,
      data: { account_id: A, reason: 'bounce_rate', mode: 'warn', numbers: { bounce_rate: 0.5 } },
    });
    const overview = await app.inject({ method: 'GET', url: '/v1/overview', headers: as('ops') });
    expect(
      overview
        .json<{ breakers: unknown[] }>()
        .breakers.find((b) => (b as { account_id: string }).account_id === A),
    ).toMatchObject({ warning: 'would_trip', mode: { mode: 'warn', from: 'runtime_default' } });
    expect(deactivations(pipeline, A)).toBe(0);
    expect(pipeline.sim.account(A)?.status).toBe('active');
  });

  it('act with a warning level: breaker.warned notified first, then the trip switches the account off once', async () => {
    const { pipeline, app, received } = await start();
    await send(app, A, 3, 1); // 25 %: warns
    await processed(app);
    const warned = await waitFor(() =>
      received.find((e) => e.type === 'ai.sendmux.deactivator.breaker.warned'),
    );
    expect(warned).toMatchObject({
      subject: A,
      data: { reason: 'bounce_rate', mode: 'act', numbers: { hard_bounced: 1, bounce_rate: 0.25 } },
    });
    const page = await app.inject({ method: 'GET', url: '/v1/overview', headers: as('ops') });
    expect(
      page.json<{ breakers: { account_id: string }[] }>().breakers.find((b) => b.account_id === A),
    ).toMatchObject({
      warning: 'warned',
      rules: { bounce_rate: 0.5, bounce_warn_rate: 0.25, bounce_min_volume: 4 },
    });
    // One account's own run-time mode: C only watches while the default acts.
    const own = await app.inject({
      method: 'PUT',
      url: '/v1/breaker/mode',
      headers: as('ops'),
      payload: { account_id: C, mode: 'watch' },
    });
    expect(own.json()).toMatchObject({ account_id: C, mode: 'watch', changed: true });
    await send(app, A, 0, 2); // 3 of 6: trips
    await send(app, C, 2, 2); // 2 of 4: would trip, watching
    await processed(app);
    await waitFor(() => pipeline.sim.account(A)?.status === 'inactive' || undefined);
    await waitFor(() => received.find((e) => e.type.endsWith('breaker.tripped')));
    expect(deactivations(pipeline, A)).toBe(1);
    expect(deactivations(pipeline, C)).toBe(0);
    expect(pipeline.sim.account(C)?.status).toBe('active');
    // A's and C's webhooks may be processed side by side: compared as sets.
    expect((await breakerTypes(pipeline)).sort()).toEqual([
      `breaker.mode_changed ${C}`,
      `breaker.tripped ${A}`,
      `breaker.warned ${A}`,
      `breaker.would_trip ${C}`,
    ]);
    expect(received.map((e) => e.type.replace('ai.sendmux.deactivator.', ''))).toEqual([
      'breaker.warned',
      'breaker.tripped',
    ]);
  });
});
