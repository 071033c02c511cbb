/**
 * Maintenance windows over the admin API: create (one-off and recurring), list, show, extend,
 * cancel; auth; 400s naming the field with nothing stored, 404, 409. Real Redis, the real
 * simulator, a real worker and the windows service, with the server answering in-process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { startWindowService, type WindowService } from '../../src/ops/window-service.js';
import { openWindows, type WindowsHandle } from '../../src/ops/windows.js';
import { simAccountId } from '../../src/sim/index.js';
import { listWindowIds } from '../../src/store/window-record.js';
import { waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { weeklyCronAwayFromNow } from '../support/weekly-cron.js';

sharedFixtures();

const ADMIN = 'admin-token-window-http-0123';
const auth = { authorization: `Bearer ${ADMIN}` };
const A = simAccountId(1);

let p: Pipeline | undefined;
let windows: WindowsHandle | undefined;
let service: WindowService | undefined;
let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close();
  await service?.close();
  await windows?.close();
  await p?.stop();
  app = service = windows = p = undefined;
});

async function start() {
  p = await startPipeline({ workers: 1, sim: { accounts: 10 } });
  const config = { ...p.config, adminToken: ADMIN };
  const logger = createLogger({ level: 'silent', pretty: false });
  windows = openWindows(config);
  service = await startWindowService(config, logger);
  app = await buildServer({ config, redis: p.redis, logger, windows });
  return { pipeline: p, app };
}

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

describe('/v1/windows', () => {
  it('creates, lists, shows, extends and cancels; the window runs its course', async () => {
    const { pipeline, app } = await start();
    const created = await app.inject({
      method: 'POST',
      url: '/v1/windows',
      headers: auth,
      payload: { id: 'http-1', accounts: [A], start: inMs(400), end: inMs(60_000), reason: 'r' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ window_id: 'http-1', state: 'scheduled', reason: 'r' });

    const list = await app.inject({ method: 'GET', url: '/v1/windows', headers: auth });
    expect(
      list.json<{ windows: { window_id: string }[] }>().windows.map((w) => w.window_id),
    ).toEqual(['http-1']);

    await waitFor(
      () => (pipeline.sim.account(A)?.status === 'inactive' ? true : undefined),
      15_000,
      'the account off',
    );
    const held = await app.inject({ method: 'GET', url: `/v1/holds/${A}`, headers: auth });
    expect(held.json()).toMatchObject({
      account_id: A,
      before: 'active',
      holds: [{ source: 'window', reason: 'r' }],
    });
    expect(held.json<{ holds: { id: string }[] }>().holds[0]?.id).toMatch(/^window:http-1:\d{8}T/);
    const everyHeld = await app.inject({ method: 'GET', url: '/v1/holds', headers: auth });
    expect(everyHeld.json<{ accounts: { account_id: string }[] }>().accounts).toHaveLength(1);
    const badHold = await app.inject({ method: 'GET', url: '/v1/holds/nope', headers: auth });
    expect(badHold.statusCode).toBe(400);
    const shown = await app.inject({ method: 'GET', url: '/v1/windows/http-1', headers: auth });
    expect(shown.json<{ occurrences: { state: string }[] }>().occurrences[0]?.state).toBe(
      'started',
    );

    // Running: DELETE is refused, naming the command that ends it; nothing changes.
    const refused = await app.inject({
      method: 'DELETE',
      url: '/v1/windows/http-1',
      headers: auth,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: 'state_conflict',
      message: expect.stringMatching(/active .*`window cancel http-1`/) as string,
    });
    const still = await app.inject({ method: 'GET', url: '/v1/windows/http-1', headers: auth });
    expect(still.json()).toEqual(shown.json());

    const newEnd = inMs(1_000);
    const extended = await app.inject({
      method: 'POST',
      url: '/v1/windows/http-1/extend',
      headers: auth,
      payload: { end: newEnd },
    });
    expect(extended.statusCode).toBe(200);
    expect(extended.json<{ occurrences: { ends_at: string }[] }>().occurrences[0]?.ends_at).toBe(
      new Date(newEnd).toISOString(),
    );
    // Shortened to a second from now: it ends by itself, and the account comes back.
    await waitFor(
      () => (pipeline.sim.account(A)?.status === 'active' ? true : undefined),
      15_000,
      'the account back on',
    );
    // It has run its course: `over`, in the window and in the list.
    await waitFor(
      async () =>
        (await app.inject({ method: 'GET', url: '/v1/windows/http-1', headers: auth })).json<{
          state: string;
        }>().state === 'over' || undefined,
      15_000,
      'the window over',
    );
    const listed = await app.inject({ method: 'GET', url: '/v1/windows', headers: auth });
    expect(listed.json<{ windows: { state: string }[] }>().windows[0]?.state).toBe('over');
    const cancelled = await app.inject({
      method: 'POST',
      url: '/v1/windows/http-1/cancel',
      headers: auth,
    });
    expect(cancelled.json()).toEqual({ window_id: 'http-1', was: 'over', ended: [] });
    const recurring = await app.inject({
      method: 'POST',
      url: '/v1/windows',
      headers: auth,
      // Days away whatever day this runs, so no occurrence starts during the test.
      payload: {
        accounts: [A],
        cron: weeklyCronAwayFromNow().cron,
        duration: '2h',
        tz: 'Europe/Berlin',
      },
    });
    expect(recurring.statusCode).toBe(201);
    expect(recurring.json<{ next_starts: string[] }>().next_starts).toHaveLength(3);
  });

  it('refuses without the token, names the bad field, 404s and 409s; nothing stored', async () => {
    const { pipeline, app } = await start();
    const body = { accounts: [A], start: inMs(60_000), end: inMs(120_000) };
    const noAuth = await app.inject({ method: 'POST', url: '/v1/windows', payload: body });
    expect(noAuth.statusCode).toBe(401);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...body, start: 'tomorrow' }, /^start: must be an ISO-8601 time/],
      [{ ...body, end: inMs(30_000) }, /^end: must be after --start/],
      [{ accounts: [A], cron: '0 2 * * 0', duration: '2h', tz: 'Mars/Base' }, /^tz: "Mars\/Base"/],
      [{ accounts: [A], cron: 'not a cron', duration: '2h' }, /^cron: /],
      [{ accounts: [A], cron: '0 2 * * 0', duration: 'long' }, /^duration: /],
      [{ ...body, accounts: ['nope'] }, /^accounts: "nope" must be a sending account id/],
      [{ ...body, accounts: 'dprov_x' }, /^accounts: must be an array/],
      [{ ...body, colour: 'red' }, /colour/],
    ];
    for (const [payload, message] of cases) {
      const r = await app.inject({ method: 'POST', url: '/v1/windows', headers: auth, payload });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(r.json<{ error: { code: string; message: string } }>().error.message).toMatch(message);
    }
    expect(await listWindowIds(pipeline.redis, pipeline.keys)).toEqual([]);

    const missing = await app.inject({ method: 'GET', url: '/v1/windows/nope', headers: auth });
    expect(missing.statusCode).toBe(404);
    // An id longer than 64 characters: the same 400 as any other field (not a 500).
    const long = 'w'.repeat(65);
    for (const [method, url] of [
      ['GET', `/v1/windows/${long}`],
      ['POST', `/v1/windows/${long}/cancel`],
      ['POST', `/v1/windows/${long}/extend`],
      ['DELETE', `/v1/windows/${long}`],
    ] as const) {
      const payload = method === 'POST' ? { end: inMs(200_000) } : undefined;
      const r = await app.inject({ method, url, headers: auth, payload });
      expect(r.statusCode, url).toBe(400);
      expect(r.json(), url).toEqual({
        error: { code: 'invalid_input', message: 'id: must be at most 64 characters' },
      });
    }
    const first = await app.inject({
      method: 'POST',
      url: '/v1/windows',
      headers: auth,
      payload: { ...body, id: 'dup' },
    });
    expect(first.statusCode).toBe(201);
    const again = await app.inject({
      method: 'POST',
      url: '/v1/windows',
      headers: auth,
      payload: { ...body, id: 'dup' },
    });
    expect(again.statusCode).toBe(409);
    await app.inject({ method: 'POST', url: '/v1/windows/dup/cancel', headers: auth });
    const extendCancelled = await app.inject({
      method: 'POST',
      url: '/v1/windows/dup/extend',
      headers: auth,
      payload: { end: inMs(200_000) },
    });
    expect(extendCancelled.statusCode).toBe(409);

    // DELETE: a window not yet started goes (200, then 404); an unknown one is a 404.
    const future = await app.inject({
      method: 'POST',
      url: '/v1/windows',
      headers: auth,
      payload: { ...body, id: 'later' },
    });
    expect(future.statusCode).toBe(201);
    const del = await app.inject({ method: 'DELETE', url: '/v1/windows/later', headers: auth });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ window_id: 'later', deleted: true, was: 'scheduled' });
    for (const url of ['/v1/windows/later', '/v1/windows/nope']) {
      const gone = await app.inject({ method: 'DELETE', url, headers: auth });
      expect(gone.statusCode, url).toBe(404);
      expect(gone.json<{ error: { code: string } }>().error.code).toBe('not_found');
    }
    const getGone = await app.inject({ method: 'GET', url: '/v1/windows/later', headers: auth });
    expect(getGone.statusCode).toBe(404);
    const noToken = await app.inject({ method: 'DELETE', url: '/v1/windows/dup' });
    expect(noToken.statusCode).toBe(401);
    expect(await listWindowIds(pipeline.redis, pipeline.keys)).toEqual(['dup']);
  });
});
