/**
 * The admin API's own routes (actions, accounts, holds, events, batches) and its OpenAPI
 * document: the happy path of each against real Redis, the simulator and a real worker; 400s
 * that name the field with nothing enqueued; 404s; the document lists exactly the routes the
 * server registers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_SPECS, openApiPath } from '../../src/http/openapi.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { OTHER_ROUTES } from '../../src/http/service-routes-doc.js';
import { createLogger } from '../../src/logger.js';
import { bulkKey } from '../../src/producers/bulk/run.js';
import { simAccountId } from '../../src/sim/index.js';
import { waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

sharedFixtures();

const ADMIN = 'admin-token-admin-api-0123456';
const auth = { authorization: `Bearer ${ADMIN}` };
const [A, B, C, D] = [1, 2, 3, 4].map((n) => simAccountId(n)) as [string, string, string, string];

let p: Pipeline | undefined;
let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close();
  await p?.stop();
  app = p = undefined;
});

async function start(workers = 1) {
  p = await startPipeline({ workers, sim: { accounts: 20 } });
  const config = { ...p.config, adminToken: ADMIN };
  const logger = createLogger({ level: 'silent', pretty: false });
  app = await buildServer({ config, redis: p.redis, logger });
  return { pipeline: p, app };
}

const queued = async (pipeline: Pipeline) => {
  const counts = await pipeline.producer.queue.getJobCounts('waiting', 'delayed', 'active');
  return Object.values(counts).reduce((a, b) => a + b, 0);
};

interface Problem {
  error: { code: string; message: string };
}

describe('/v1/actions, /v1/accounts, /v1/holds, /v1/events', () => {
  it('switches accounts off and on; statuses, holds and events read back', async () => {
    const { pipeline, app } = await start();
    const off = await app.inject({
      method: 'POST',
      url: '/v1/actions',
      headers: auth,
      payload: { action: 'deactivate', accounts: [A, B], reason: 'http test' },
    });
    expect(off.statusCode).toBe(202);
    const reports = off.json<{ reports: { account_id: string; idempotency_key: string }[] }>()
      .reports;
    expect(reports.map((r) => r.account_id)).toEqual([A, B]);
    await pipeline.waitFor(reports.map((r) => r.idempotency_key));
    expect(pipeline.sim.account(A)?.status).toBe('inactive');

    const one = await app.inject({ method: 'GET', url: `/v1/accounts/${A}`, headers: auth });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({
      account_id: A,
      status: 'inactive',
      last_outcome: 'succeeded',
      reason: 'http test',
      holds: [expect.objectContaining({ id: 'manual' })],
    });
    const all = await app.inject({ method: 'GET', url: '/v1/accounts?limit=10', headers: auth });
    expect(
      all
        .json<{ accounts: { account_id: string }[] }>()
        .accounts.map((a) => a.account_id)
        .sort(),
    ).toEqual([A, B].sort());

    // Nothing recorded: the same shape, with nulls and no holds.
    const never = await app.inject({ method: 'GET', url: `/v1/accounts/${D}`, headers: auth });
    expect(never.statusCode).toBe(200);
    expect(never.json()).toMatchObject({
      account_id: D,
      status: null,
      last_outcome: null,
      holds: [],
      held_before: null,
    });

    const holds = await app.inject({ method: 'GET', url: '/v1/holds', headers: auth });
    expect(holds.json<{ accounts: { account_id: string }[] }>().accounts).toHaveLength(2);
    const holdsA = await app.inject({ method: 'GET', url: `/v1/holds/${A}`, headers: auth });
    expect(holdsA.json()).toMatchObject({ account_id: A, holds: [{ id: 'manual' }] });

    const events = await app.inject({
      method: 'GET',
      url: '/v1/events?type=action.succeeded&limit=5',
      headers: auth,
    });
    const list = events.json<{ events: { type: string; account_id: string }[] }>().events;
    expect(list.map((e) => e.type)).toEqual(['action.succeeded', 'action.succeeded']);

    // Back on: the manual hold is released with it.
    const on = await app.inject({
      method: 'POST',
      url: '/v1/actions',
      headers: auth,
      payload: { action: 'activate', accounts: [A], idempotency_key: 'http-on-a' },
    });
    expect(on.statusCode).toBe(202);
    expect(on.json()).toMatchObject({
      reports: [{ idempotency_key: 'http-on-a', enqueue: 'enqueued' }],
    });
    await pipeline.waitFor(['http-on-a']);
    expect(pipeline.sim.account(A)?.status).toBe('active');
    const after = await app.inject({ method: 'GET', url: `/v1/accounts/${A}`, headers: auth });
    expect(after.json()).toMatchObject({ status: 'active', holds: [] });
  });

  it('refuses bad input with a 400 naming the field, and enqueues nothing', async () => {
    const { pipeline, app } = await start(0);
    const cases: [object, string][] = [
      [{ action: 'deactivate', accounts: [A, 'nope'] }, 'body.accounts.1: '],
      [{ action: 'pause', accounts: [A] }, 'body.action: must be one of deactivate, activate'],
      [{ action: 'deactivate', accounts: [] }, 'body.accounts: must not be empty'],
      [{ action: 'deactivate', accounts: [A], colour: 'red' }, 'body: unknown field(s) "colour"'],
      [
        { action: 'deactivate', accounts: [A, B], idempotency_key: 'k' },
        'body.idempotency_key: only with exactly one account',
      ],
      [[1, 2], 'body: must be a JSON object'],
    ];
    for (const [payload, message] of cases) {
      const res = await app.inject({ method: 'POST', url: '/v1/actions', headers: auth, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json<Problem>().error.message).toContain(message);
      expect(res.json<Problem>().error.code).toBe('invalid_input');
    }
    const badQuery = await app.inject({ method: 'GET', url: '/v1/events?limit=0', headers: auth });
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json<Problem>().error.message).toBe('query.limit: must be >= 1');
    const badType = await app.inject({ method: 'GET', url: '/v1/events?type=x', headers: auth });
    expect(badType.json<Problem>().error.message).toMatch(/^query\.type: must be one of /);
    const badId = await app.inject({ method: 'GET', url: '/v1/accounts/x', headers: auth });
    expect(badId.statusCode).toBe(400);
    expect(badId.json<Problem>().error.message).toMatch(/^params\.account: /);

    const huge = await app.inject({
      method: 'POST',
      url: '/v1/actions',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ action: 'deactivate', accounts: [A], reason: 'x'.repeat(2e6) }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json<Problem>().error.code).toBe('body_too_large');
    expect(await queued(pipeline)).toBe(0);
  });

  it('needs the token on every admin route', async () => {
    const { app } = await start(0);
    for (const spec of ADMIN_SPECS) {
      const url = `/v1${spec.path.replace(':account', A).replace(':id', 'x')}`;
      const none = await app.inject({ method: spec.method, url });
      expect(none.statusCode, `${spec.method} ${url}`).toBe(401);
      const wrong = await app.inject({
        method: spec.method,
        url,
        headers: { authorization: 'Bearer not-the-admin-token-at-all' },
      });
      expect(wrong.statusCode, `${spec.method} ${url}`).toBe(401);
    }
  });
});

describe('/v1/batches', () => {
  it('starts a run, reads it, reports on it, lists it, undoes it', async () => {
    const { pipeline, app } = await start();
    const started = await app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: auth,
      payload: { ids: [A, B, C, A], batch_id: 'http-run', include_shared: true },
    });
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({
      batch_id: 'http-run',
      pass: { enqueued: 3, duplicates: 1 },
      batch: { total: 3 },
    });
    const batch = await waitFor(async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/batches/http-run', headers: auth });
      const b = res.json<{ finished_at: string | null; succeeded: number }>();
      return b.finished_at === null ? undefined : b;
    });
    expect(batch.succeeded).toBe(3);
    for (const id of [A, B, C]) {
      expect(pipeline.sim.stats().executions.byKey[bulkKey('http-run', id)]).toBe(1);
    }

    const csv = await app.inject({
      method: 'GET',
      url: '/v1/batches/http-run/report',
      headers: auth,
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe(
      'account_id,outcome,status,error_code,http_status,request_id,attempts,at,status_now,held_by,undo,undo_activation',
    );
    expect(
      lines
        .slice(1)
        .map((l) => l.split(',').slice(0, 3).join(','))
        .sort(),
    ).toEqual([A, B, C].map((id) => `${id},succeeded,inactive`).sort());
    const json = await app.inject({
      method: 'GET',
      url: '/v1/batches/http-run/report?format=json',
      headers: auth,
    });
    const rows = json.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { account_id: string; outcome: string });
    expect(rows.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded']);

    const list = await app.inject({ method: 'GET', url: '/v1/batches', headers: auth });
    expect(list.json<{ batches: { batch_id: string }[] }>().batches.map((b) => b.batch_id)).toEqual(
      ['http-run'],
    );

    const undo = await app.inject({
      method: 'POST',
      url: '/v1/batches/http-run/undo',
      headers: auth,
    });
    expect(undo.statusCode).toBe(200);
    expect(undo.json()).toMatchObject({ batch_id: 'http-run', reactivated: 3 });
    await waitFor(() =>
      [A, B, C].every((id) => pipeline.sim.account(id)?.status === 'active') ? true : undefined,
    );
    // The record tells the undo: its state, who (the token's name), its counts and activations.
    const undone = await waitFor(async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/batches/http-run', headers: auth });
      const b = res.json<{ undo: { state: string } | null }>();
      return b.undo?.state === 'done' ? b : undefined;
    });
    expect(undone).toMatchObject({
      succeeded: 3,
      undo: {
        state: 'done',
        by: 'admin',
        runs: 1,
        reactivated: 3,
        still_held: 0,
        activations: { total: 3, succeeded: 3, failed: 0, queued: 0 },
      },
    });
    const listed = await app.inject({ method: 'GET', url: '/v1/batches', headers: auth });
    expect(listed.json<{ batches: { undo: unknown }[] }>().batches[0]?.undo).toEqual(undone.undo);
    const after = await app.inject({
      method: 'GET',
      url: '/v1/batches/http-run/report?format=json',
      headers: auth,
    });
    expect(
      after.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual(
      [A, B, C].sort().map((id): unknown =>
        expect.objectContaining({
          account_id: id,
          outcome: 'succeeded',
          status: 'inactive',
          status_now: 'active',
          held_by: [],
          undo: 'reactivated',
          undo_activation: 'succeeded',
        }),
      ),
    );
  });

  it('takes an upload of ids as text/csv; invalid ids enqueue nothing; dry run; cancel; 404', async () => {
    const { pipeline, app } = await start(0);
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: auth,
      payload: { ids: [A, 'bad id', B] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<Problem>().error).toMatchObject({ code: 'invalid_input' });
    expect(bad.json<Problem>().error.message).toContain('item 2: "bad id"');
    expect(bad.json<Problem>().error.message).toContain('skip_invalid');
    expect(bad.json<Problem>().error.message).not.toContain('--');
    expect(await queued(pipeline)).toBe(0);

    const both = await app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: auth,
      payload: { ids: [A], filter: 'status=active' },
    });
    expect(both.json<Problem>().error.message).toBe('body: give exactly one of "ids" or "filter"');

    const executions = pipeline.sim.stats().executions.total;
    const dry = await app.inject({
      method: 'POST',
      url: '/v1/batches?dry_run=true',
      headers: { ...auth, 'content-type': 'text/plain' },
      payload: `# ids\n${A}\n${B}\n`,
    });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ read: 2, would_enqueue: 2, dry_run: true });
    expect(dry.json<{ would_enqueue_ids: string[] }>().would_enqueue_ids).toHaveLength(2);
    expect(pipeline.sim.stats().executions.total).toBe(executions);
    expect(await queued(pipeline)).toBe(0);

    const upload = await app.inject({
      method: 'POST',
      url: '/v1/batches?batch_id=upload&skip_invalid=true&include_shared=true',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: `id,name\n${A},a\nnot-an-id,b\n${B},c\n${C},d\n`,
    });
    expect(upload.statusCode).toBe(202);
    expect(upload.json()).toMatchObject({ batch_id: 'upload', pass: { enqueued: 3, invalid: 1 } });
    expect(await queued(pipeline)).toBe(3);

    const cancelledCount = async () => {
      const text = (await app.inject({ method: 'GET', url: '/metrics', headers: auth })).body;
      const m =
        /^sendmux_deactivator_actions_total\{action="deactivate",outcome="cancelled",source="bulk"\} (\d+)$/m.exec(
          text,
        );
      return Number(m?.[1] ?? 0);
    };
    const cancelledBefore = await cancelledCount();
    const cancel = await app.inject({
      method: 'POST',
      url: '/v1/batches/upload/cancel',
      headers: auth,
    });
    expect(await cancelledCount()).toBe(cancelledBefore + 3);
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json()).toMatchObject({ batch_id: 'upload', cancelled: 3 });
    expect(await queued(pipeline)).toBe(0);
    const cancelled = await app.inject({ method: 'GET', url: '/v1/batches/upload', headers: auth });
    expect(cancelled.json()).toMatchObject({ cancelled: 3, cancelled_by: 'admin', undo: null });
    expect(cancelled.json<{ cancelled_at: string | null }>().cancelled_at).toMatch(/^20\d\d-/);

    for (const [method, url] of [
      ['GET', '/v1/batches/nope'],
      ['GET', '/v1/batches/nope/report'],
      ['POST', '/v1/batches/nope/cancel'],
      ['POST', '/v1/batches/nope/undo'],
    ] as const) {
      const res = await app.inject({ method, url, headers: auth });
      expect(res.statusCode, url).toBe(404);
      expect(res.json<Problem>().error.code).toBe('not_found');
    }
    const badFormat = await app.inject({
      method: 'GET',
      url: '/v1/batches/upload/report?format=xml',
      headers: auth,
    });
    expect(badFormat.json<Problem>().error.message).toBe('query.format: must be csv or json');
    expect(pipeline.sim.account(D)?.status).toBe('active');
  });
});

/** `METHOD /full/path` of every route in fastify's printRoutes tree (4 characters a level). */
function registeredRoutes(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?/.exec(line);
    if (!m?.[2]) continue;
    const depth = (m[1] ?? '').length / 4;
    const parent = depth > 0 ? (stack[depth - 1] ?? '') : '';
    const path = parent.endsWith('/') || m[2].startsWith('/') ? parent + m[2] : `${parent}/${m[2]}`;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of m[3]?.split(', ') ?? []) out.push(`${method} ${path}`);
  }
  return out;
}

describe('/openapi.json', () => {
  it('is public and documents exactly the routes the server has', async () => {
    p = await startPipeline({ workers: 0 });
    const logger = createLogger({ level: 'silent', pretty: false });
    const config = { ...p.config, adminToken: ADMIN };
    // Breaker and windows routes are served when the server is given them; register a
    // stand-in set of routes by building with both (their handlers are not called here).
    const { openWindows } = await import('../../src/ops/windows.js');
    const { startBreakerService } = await import('../../src/ops/breaker-service.js');
    const windows = openWindows(config);
    const breaker = await startBreakerService(config, logger);
    const routes: string[] = [];
    try {
      app = await buildServer({ config, redis: p.redis, logger, windows, breaker });
      await app.ready();
      routes.push(...registeredRoutes(app.printRoutes({ commonPrefix: false })));
      const res = await app.inject({ method: 'GET', url: '/openapi.json' });
      expect(res.statusCode).toBe(200);
      const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
      expect(doc.openapi).toBe('3.1.0');
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      );
      const admin = routes
        .filter((r) => / \/v1\//.test(r) && !r.startsWith('HEAD '))
        .map((r) => r.replace(/ (.*)$/, (_m, path: string) => ` ${openApiPath(path)}`));
      expect(new Set(documented.filter((d) => d.includes(' /v1/')))).toEqual(new Set(admin));
      expect(ADMIN_SPECS.length).toBe(admin.length);
      for (const r of OTHER_ROUTES) expect(routes).toContain(`${r.method} ${r.path}`);
      const upload = doc.paths['/v1/batches']?.post as { requestBody: { content: object } };
      expect(Object.keys(upload.requestBody.content).sort()).toEqual([
        'application/json',
        'text/csv',
        'text/plain',
      ]);
    } finally {
      await breaker.close();
      await windows.close();
    }
  });
});
