/**
 * The breaker behind the HTTP server, end to end: signed webhooks -> inbox -> the breaker
 * service (resolution, count, trip) -> the deactivate call at the simulator; the sender read as
 * one RFC 5322 mailbox (a display name holding another address trips the real sender only);
 * unresolved and ambiguous events counted and visible; the admin routes (signals, status, trip, reset) with their auth and
 * their 4xx. Real Redis, the real simulator, a real worker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import {
  INBOX_GROUP,
  startBreakerService,
  type BreakerService,
  type BreakerServiceOptions,
} from '../../src/ops/breaker-service.js';
import { simAccountId } from '../../src/sim/index.js';
import { readDeadLetters } from '../../src/store/webhook-inbox-dead.js';
import { waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { signedWebhookRequest } from '../support/webhooks.js';

sharedFixtures();

const SECRET = 'whsec_breaker_http_1';
const ADMIN = 'admin-token-breaker-http-0123';
const auth = { authorization: `Bearer ${ADMIN}` };

let p: Pipeline | undefined;
let service: BreakerService | undefined;
let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close();
  await service?.close();
  await p?.stop();
  app = undefined;
  service = undefined;
  p = undefined;
});

async function start(overrides: Partial<Config> = {}, serviceOptions: BreakerServiceOptions = {}) {
  p = await startPipeline({ workers: 1, sim: { accounts: 10 } });
  const config: Config = {
    ...p.config,
    adminToken: ADMIN,
    webhookSecret: SECRET,
    breakerBounceMinVolume: 3,
    breakerBounceRate: 0.5,
    breakerSenderMap: JSON.stringify({ 'news@shop.example': simAccountId(1) }),
    ...overrides,
  };
  const logger = createLogger({ level: 'silent', pretty: false });
  service = await startBreakerService(config, logger, { tickMs: 100, ...serviceOptions });
  app = await buildServer({ config, redis: p.redis, logger, breaker: service });
  return { pipeline: p, app };
}

let n = 0;
function webhook(type: string, data: Record<string, unknown>) {
  const id = `evt_http_${process.pid}_${++n}`;
  const body = JSON.stringify({
    id,
    type,
    team_public_id: 'team_1',
    occurred_at: new Date().toISOString(),
    data: { message_id: `<${id}@shop.example>`, ...data },
  });
  return { id, request: signedWebhookRequest(SECRET, id, body) };
}

describe('webhooks through the breaker', () => {
  it('a spike of signed bounces switches the mapped account off, once, with the numbers', async () => {
    const { pipeline, app } = await start();
    const target = simAccountId(1);
    const sends = [];
    for (let i = 0; i < 4; i++) {
      const w = webhook('message.bounced', {
        sender: 'News <news@shop.example>',
        bounce_type: 'Permanent',
      });
      sends.push(app.inject(w.request));
      // A retried delivery of the same event changes nothing.
      if (i === 0) sends.push(app.inject(w.request));
    }
    const answers = await Promise.all(sends);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 202, 202, 202, 202]);
    await waitFor(() => pipeline.sim.account(target)?.status === 'inactive' || undefined);
    const status = await app.inject({
      method: 'GET',
      url: `/v1/breakers/${target}`,
      headers: auth,
    });
    expect(status.json()).toMatchObject({
      state: 'open',
      trips: 1,
      last_trip: { reason: 'bounce_rate', numbers: { hard_bounced: 3, bounce_rate: 1 } },
      holds: { holds: [{ id: 'breaker' }] },
    });
    const calls = pipeline.sim.stats().executions.byAccount[target];
    expect(calls).toMatchObject({ deactivate: 1 });
  });

  it("finds the account by its from_email, then by the message's delivery log", async () => {
    const { pipeline, app } = await start({ breakerBounceMinVolume: 1 });
    // The second link: the sender is an account's from_email (read from the API at start).
    const byAddress = simAccountId(5);
    const from = pipeline.sim.account(byAddress)?.from_email;
    expect(from).toBeTruthy();
    const w1 = webhook('message.bounced', { sender: from, bounce_type: 'Permanent' });
    expect((await app.inject(w1.request)).statusCode).toBe(202);
    await waitFor(() => pipeline.sim.account(byAddress)?.status === 'inactive' || undefined);
    // The third link: an unknown sender, but the message is in the delivery logs.
    const byLog = simAccountId(6);
    const w2 = webhook('message.bounced', {
      sender: 'relay@elsewhere.example',
      bounce_type: 'Permanent',
    });
    pipeline.sim.addDeliveryLogs([{ provider_id: byLog, message_id: `<${w2.id}@shop.example>` }]);
    expect((await app.inject(w2.request)).statusCode).toBe(202);
    await waitFor(() => pipeline.sim.account(byLog)?.status === 'inactive' || undefined);
    const stats = await app.inject({ method: 'GET', url: '/v1/webhooks/stats', headers: auth });
    expect(stats.json()).toMatchObject({ results: { tripped: 2, unresolved: 0 } });
  });

  it('counts a bounce whose quoted display name holds another address for the real sender only', async () => {
    const { pipeline, app } = await start({ breakerBounceMinVolume: 1 });
    const named = simAccountId(3);
    const sender = simAccountId(4);
    const namedFrom = pipeline.sim.account(named)?.from_email;
    const senderFrom = pipeline.sim.account(sender)?.from_email;
    expect(namedFrom).toBeTruthy();
    expect(senderFrom).toBeTruthy();
    // e.g. "Help <sender000003@sim.example>" <sender000004@sim.example>: legal RFC 5322.
    const w = webhook('message.bounced', {
      sender: `"Help <${namedFrom}>" <${senderFrom}>`,
      bounce_type: 'Permanent',
    });
    expect((await app.inject(w.request)).statusCode).toBe(202);
    // Processed (whatever became of it), then: which account it was counted for.
    const results = await waitFor(async () => {
      const r = await app.inject({ method: 'GET', url: '/v1/webhooks/stats', headers: auth });
      const counts = r.json<{ results: Record<string, number> }>().results;
      return Object.values(counts).some((n) => n > 0) ? counts : undefined;
    });
    expect(results).toMatchObject({ tripped: 1, unresolved: 0, ambiguous: 0 });
    const status = (id: string) =>
      app.inject({ method: 'GET', url: `/v1/breakers/${id}`, headers: auth });
    expect((await status(sender)).json()).toMatchObject({
      state: 'open',
      window: { bounced: 1, hard_bounced: 1 },
    });
    // The account named in the display name was neither counted nor touched.
    expect((await status(named)).json()).toMatchObject({
      state: 'closed',
      trips: 0,
      window: { bounced: 0, hard_bounced: 0 },
    });
    await waitFor(() => pipeline.sim.account(sender)?.status === 'inactive' || undefined);
    expect(pipeline.sim.account(named)?.status).toBe('active');
    expect(pipeline.sim.stats().executions.byAccount[named]).toBeUndefined();
    expect(pipeline.sim.stats().executions.byAccount[sender]).toMatchObject({ deactivate: 1 });
  });

  it('counts an event several accounts could have sent for none, and shows its candidates', async () => {
    const { pipeline, app } = await start({ breakerBounceMinVolume: 1 });
    const candidates = [simAccountId(5), simAccountId(6)];
    const w = webhook('message.bounced', {
      sender: 'relay@elsewhere.example',
      bounce_type: 'Permanent',
    });
    // The delivery log names two accounts for this message: no guess between them.
    pipeline.sim.addDeliveryLogs(
      candidates.map((id) => ({ provider_id: id, message_id: `<${w.id}@shop.example>` })),
    );
    expect((await app.inject(w.request)).statusCode).toBe(202);
    type Stats = {
      results: { ambiguous: number; tripped: number; unresolved: number };
      ambiguous: { event_id: string; candidates: string[]; via: string }[];
    };
    let stats: Stats | undefined;
    await waitFor(async () => {
      const r = await app.inject({ method: 'GET', url: '/v1/webhooks/stats', headers: auth });
      stats = r.json<Stats>();
      return stats.results.ambiguous >= 1 || undefined;
    });
    expect(stats?.results).toMatchObject({ ambiguous: 1, tripped: 0, unresolved: 0 });
    expect(stats?.ambiguous).toEqual([
      expect.objectContaining({
        event_id: w.id,
        type: 'message.bounced',
        sender: 'relay@elsewhere.example',
        message_id: `<${w.id}@shop.example>`,
        candidates: [...candidates].sort(),
        via: 'delivery_log',
      }),
    ]);
    for (const id of candidates) {
      const r = await app.inject({ method: 'GET', url: `/v1/breakers/${id}`, headers: auth });
      expect(r.json()).toMatchObject({ state: 'closed', window: { bounced: 0 } });
      expect(pipeline.sim.account(id)?.status).toBe('active');
    }
  });

  it('counts an event no account is found for, and shows it', async () => {
    const { app } = await start();
    const w = webhook('message.bounced', {
      sender: 'who@nowhere.example',
      bounce_type: 'Permanent',
    });
    expect((await app.inject(w.request)).statusCode).toBe(202);
    let stats: { results: { unresolved: number }; unresolved: { event_id: string }[] } | undefined;
    await waitFor(async () => {
      const r = await app.inject({ method: 'GET', url: '/v1/webhooks/stats', headers: auth });
      stats = r.json();
      return (stats?.results.unresolved ?? 0) >= 1 || undefined;
    });
    expect(stats?.unresolved[0]).toMatchObject({
      event_id: w.id,
      type: 'message.bounced',
      sender: 'who@nowhere.example',
    });
  });
});

describe('an inbox entry whose processing always fails', () => {
  it('does not hold up the others, and is moved to the dead letters after maxDeliveries', async () => {
    const poisoned = simAccountId(7);
    const fine = simAccountId(8);
    const { pipeline, app } = await start(
      {
        breakerSenderMap: JSON.stringify({
          'poison@shop.example': poisoned,
          'fine@shop.example': fine,
        }),
      },
      { claimIdleMs: 100, maxDeliveries: 3 },
    );
    // A record of the wrong type: every signal for this account fails in Redis (WRONGTYPE).
    await pipeline.redis.set(pipeline.keys.breaker(poisoned), 'not a hash');
    const bad = webhook('message.bounced', {
      sender: 'poison@shop.example',
      bounce_type: 'Permanent',
    });
    const good = webhook('message.delivered', { sender: 'fine@shop.example' });
    expect((await app.inject(bad.request)).statusCode).toBe(202);
    // The good one arrives once the bad one has been read and failed (pending, retried).
    await waitFor(async () => {
      const [pending] = (await pipeline.redis.xpending(
        pipeline.keys.webhookInbox,
        INBOX_GROUP,
      )) as [number];
      return pending >= 1 || undefined;
    });
    expect((await app.inject(good.request)).statusCode).toBe(202);
    type Stats = {
      results: { counted: number; dead_lettered: number };
      dead_letters: { inbox_id: string; type: string; deliveries: number; error: string }[];
    };
    let stats: Stats | undefined;
    const read = async () => {
      const r = await app.inject({ method: 'GET', url: '/v1/webhooks/stats', headers: auth });
      stats = r.json<Stats>();
      return stats;
    };
    // The good one is counted while the bad one is still being retried: each failed round
    // waits 1 s, so giving up on it (3 deliveries) takes at least 2 s.
    await waitFor(async () => (await read()).results.counted >= 1 || undefined, 15_000);
    expect(stats?.results.dead_lettered).toBe(0);
    await waitFor(async () => (await read()).results.dead_lettered >= 1 || undefined, 15_000);
    // The good event behind it was counted, the bad one given up on once, after 3 deliveries.
    expect(stats?.results).toMatchObject({ counted: 1, dead_lettered: 1 });
    expect(stats?.dead_letters).toHaveLength(1);
    expect(stats?.dead_letters[0]).toMatchObject({ type: 'message.bounced', deliveries: 3 });
    expect(stats?.dead_letters[0]?.error).toMatch(/WRONGTYPE/);
    const [dead] = await readDeadLetters(pipeline.redis, pipeline.keys);
    expect(JSON.parse(dead?.body ?? '{}')).toMatchObject({ id: bad.id });
    // Nothing is left pending, and it is not tried again.
    const pending = (await pipeline.redis.xpending(pipeline.keys.webhookInbox, INBOX_GROUP)) as [
      number,
      ...unknown[],
    ];
    expect(pending[0]).toBe(0);
    // A marker event after it is counted by a later round of the consumer (each round claims
    // what is pending, then reads): the bad one was not delivered again by then.
    const marker = webhook('message.delivered', { sender: 'fine@shop.example' });
    expect((await app.inject(marker.request)).statusCode).toBe(202);
    await waitFor(async () => (await read()).results.counted >= 2 || undefined, 15_000);
    expect(stats?.results).toMatchObject({ counted: 2, dead_lettered: 1 });
    expect(await readDeadLetters(pipeline.redis, pipeline.keys)).toHaveLength(1);
  });
});

describe('the admin routes', () => {
  it('signals: one or many, refused without the token, a bad one named with its field', async () => {
    const { app } = await start();
    const signal = (id: string) => ({
      id,
      account_id: simAccountId(2),
      outcome: 'delivered',
      occurred_at: new Date().toISOString(),
    });
    expect(
      (await app.inject({ method: 'POST', url: '/v1/signals', payload: signal('s1') })).statusCode,
    ).toBe(401);
    const one = await app.inject({
      method: 'POST',
      url: '/v1/signals',
      headers: auth,
      payload: signal('s1'),
    });
    expect(one.json()).toEqual({ result: 'counted' });
    const many = await app.inject({
      method: 'POST',
      url: '/v1/signals',
      headers: auth,
      payload: [signal('s1'), signal('s2')],
    });
    expect(many.json()).toEqual({ results: [{ result: 'duplicate' }, { result: 'counted' }] });
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/signals',
      headers: auth,
      payload: [signal('s3'), { ...signal('s4'), outcome: 'opened' }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      error: {
        code: 'invalid_input',
        message: expect.stringMatching(/^item 2: outcome: must be one of/) as string,
      },
    });
    const empty = await app.inject({
      method: 'POST',
      url: '/v1/signals',
      headers: auth,
      payload: [],
    });
    expect(empty.statusCode).toBe(400);
  });

  it('trip and reset: 200, then 409 when there is nothing to do; a bad account id is a 400', async () => {
    const { pipeline, app } = await start();
    const id = simAccountId(3);
    const trip = await app.inject({
      method: 'POST',
      url: `/v1/breakers/${id}/trip`,
      headers: auth,
      payload: { reason: 'provider block' },
    });
    expect(trip.statusCode).toBe(200);
    expect(trip.json()).toMatchObject({ account_id: id, result: 'tripped' });
    const tripAgain = await app.inject({
      method: 'POST',
      url: `/v1/breakers/${id}/trip`,
      headers: auth,
    });
    expect(tripAgain.statusCode).toBe(409);
    expect(tripAgain.json()).toEqual({
      error: {
        code: 'state_conflict',
        message: `the breaker of ${id} is open already: nothing done`,
      },
    });
    await waitFor(() => pipeline.sim.account(id)?.status === 'inactive' || undefined);
    const reset = await app.inject({
      method: 'POST',
      url: `/v1/breakers/${id}/reset`,
      headers: auth,
    });
    expect(reset.json()).toMatchObject({
      result: 'reset',
      released: true,
      still_held_by: [],
      base: 'active',
    });
    await waitFor(() => pipeline.sim.account(id)?.status === 'active' || undefined);
    const resetAgain = await app.inject({
      method: 'POST',
      url: `/v1/breakers/${id}/reset`,
      headers: auth,
    });
    expect(resetAgain.statusCode).toBe(409);
    expect(resetAgain.json()).toEqual({
      error: { code: 'state_conflict', message: `the breaker of ${id} is not open: nothing done` },
    });
    const badId = await app.inject({ method: 'GET', url: '/v1/breakers/nope', headers: auth });
    expect(badId.statusCode).toBe(400);
    expect(badId.json()).toMatchObject({
      error: {
        code: 'invalid_input',
        message: expect.stringContaining('params.account: must be a sending account id') as string,
      },
    });
    // The same bad account id answers the same error on every route that takes one.
    for (const url of [
      '/v1/holds/nope',
      '/v1/accounts/nope',
      '/v1/breakers/nope/trip',
      '/v1/breakers/nope/reset',
    ]) {
      const method = url.endsWith('/trip') || url.endsWith('/reset') ? 'POST' : 'GET';
      const res = await app.inject({ method, url, headers: auth });
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toEqual(badId.json());
    }
    const list = await app.inject({ method: 'GET', url: '/v1/breakers', headers: auth });
    expect(
      list.json<{ accounts: { account_id: string }[] }>().accounts.map((a) => a.account_id),
    ).toContain(id);
  });
});
