/**
 * Contract test: real simulator responses validated with ajv against the response schemas
 * that spec/sendmux/openapi-management.json declares for each path and status (ApiError
 * where the spec declares none, e.g. 401 on a single account, 429, 500, 503).
 */
import { describe, expect, it } from 'vitest';
import {
  SIM_LOCKED_ID,
  SIM_SHARED_SES_ID,
  simAccountId,
  startSimulator,
} from '../../../src/sim/index.js';
import type { Simulator } from '../../../src/sim/index.js';
import { declaredRef, validatorFor } from '../../support/openapi-schemas.js';
import { failure, get, post, useSimulator, waitFor } from './helpers.js';
import type { CallResult } from './helpers.js';

function expectConforms(
  r: CallResult,
  path: string,
  method: 'get' | 'post',
  status: number,
  declared?: boolean,
): void {
  expect(r.status).toBe(status);
  const d = declaredRef(path, method, status);
  if (declared !== undefined) expect(d.declared).toBe(declared);
  const validate = validatorFor(d.ref);
  const ok = validate(r.json);
  expect(validate.errors ?? [], `${method} ${path} ${status} vs ${d.ref}`).toEqual([]);
  expect(ok).toBe(true);
  expect(r.headers['x-request-id']).toBe(
    (r.json as { meta: { request_id: string } }).meta.request_id,
  );
  expect(r.headers['cache-control']).toBe('no-store');
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'])
    expect(r.headers[h], h).toMatch(/^\d+$/);
}

const ONE = '/providers/{public_id}';
const DEACTIVATE = '/providers/{public_id}/deactivate';
const ACTIVATE = '/providers/{public_id}/activate';

let sim: Simulator;
useSimulator({ accounts: 30, rateLimit: 1_000 }, (s) => (sim = s));

describe('the validator is not vacuous', () => {
  it('rejects an item with an extra field or a missing is_shared, and a list without pagination', async () => {
    const r = await get(sim, `/providers/${simAccountId(1)}`);
    const body = r.json as { data: Record<string, unknown> };
    const validate = validatorFor('#/components/schemas/ProviderItemResponse');
    expect(validate(body)).toBe(true);
    expect(validate({ ...body, data: { ...body.data, secret: 'x' } })).toBe(false);
    const missing = { ...body.data };
    delete missing.is_shared;
    expect(validate({ ...body, data: missing })).toBe(false);
    expect(validate({ ...body, data: { ...body.data, status: 'paused' } })).toBe(false);
    expect(validate({ ...body, extra: true })).toBe(false);
    const list = await get(sim, '/providers?limit=2');
    const listValidate = validatorFor('#/components/schemas/ProviderItemCursorListResponse');
    expect(listValidate(list.json)).toBe(true);
    expect(
      listValidate({
        ...(list.json as object),
        pagination: { has_more: false, next_cursor: null },
      }),
    ).toBe(false);
    const apiError = validatorFor('#/components/schemas/ApiError');
    expect(
      apiError({
        ok: false,
        error: { code: 'teapot', message: 'x', retryable: false },
        meta: { request_id: 'req_x' },
      }),
    ).toBe(false);
  });
});

describe('responses conform to the OpenAPI contract', () => {
  it('GET /providers pages (middle and last)', async () => {
    expectConforms(await get(sim, '/providers?limit=5'), '/providers', 'get', 200, true);
    expectConforms(await get(sim, '/providers?limit=100'), '/providers', 'get', 200, true);
    expectConforms(await get(sim, '/providers?type=amazon_ses'), '/providers', 'get', 200, true);
  });

  it('GET /providers/{public_id} for every seeded account kind', async () => {
    for (const id of [
      simAccountId(1),
      simAccountId(7),
      simAccountId(11),
      simAccountId(22),
      SIM_SHARED_SES_ID,
      SIM_LOCKED_ID,
    ]) {
      expectConforms(await get(sim, `/providers/${id}`), ONE, 'get', 200, true);
    }
  });

  it('deactivate 200 and activate 200 (active and pending)', async () => {
    expectConforms(
      await post(sim, `/providers/${simAccountId(2)}/deactivate`),
      DEACTIVATE,
      'post',
      200,
      true,
    );
    expectConforms(
      await post(sim, `/providers/${simAccountId(2)}/activate`),
      ACTIVATE,
      'post',
      200,
      true,
    );
    expectConforms(
      await post(sim, `/providers/${SIM_SHARED_SES_ID}/deactivate`),
      DEACTIVATE,
      'post',
      200,
      true,
    );
    const pending = await post(sim, `/providers/${simAccountId(22)}/activate`);
    expectConforms(pending, ACTIVATE, 'post', 200, true);
    expect((pending.json as { data: { status: string } }).data.status).toBe('pending');
  });

  it('404 not_found on GET and POST', async () => {
    expectConforms(await get(sim, '/providers/dprov_nope'), ONE, 'get', 404, true);
    expectConforms(
      await post(sim, '/providers/dprov_nope/deactivate'),
      DEACTIVATE,
      'post',
      404,
      true,
    );
  });

  it('409 conflict (state and scripted) and 409 idempotency_conflict (in flight)', async () => {
    const conflict = await post(sim, `/providers/${SIM_LOCKED_ID}/deactivate`);
    expectConforms(conflict, DEACTIVATE, 'post', 409, true);
    expect((conflict.json as { error: { code: string } }).error.code).toBe('conflict');
    sim.script(simAccountId(5), [{ kind: 'conflict' }]);
    const scripted = await post(sim, `/providers/${simAccountId(5)}/activate`);
    expectConforms(scripted, ACTIVATE, 'post', 409, true);
    expect((scripted.json as { error: { code: string } }).error.code).toBe('conflict');

    sim.script(simAccountId(3), [{ kind: 'delay', ms: 300 }]);
    const first = post(sim, `/providers/${simAccountId(3)}/activate`, { idem: 'c-1' });
    await waitFor(() => sim.stats().executions.total === 1);
    const idem = await post(sim, `/providers/${simAccountId(3)}/activate`, { idem: 'c-1' });
    expectConforms(idem, ACTIVATE, 'post', 409, true);
    expect((idem.json as { error: { code: string } }).error.code).toBe('idempotency_conflict');
    expectConforms(await first, ACTIVATE, 'post', 200, true);
  });

  it('no-op 200, replays (also of a lost answer) and the same key on another endpoint', async () => {
    const path = `/providers/${simAccountId(6)}/deactivate`;
    expectConforms(await post(sim, path, { idem: 'r-1' }), DEACTIVATE, 'post', 200, true);
    expectConforms(await post(sim, path, { idem: 'r-1' }), DEACTIVATE, 'post', 200, true);
    expectConforms(await post(sim, path, { idem: 'r-2' }), DEACTIVATE, 'post', 200, true);
    expectConforms(
      await post(sim, `/providers/${simAccountId(6)}/activate`, { idem: 'r-1' }),
      ACTIVATE,
      'post',
      200,
      true,
    );
    sim.script(simAccountId(7), [{ kind: 'lost', mode: 'drop' }]);
    await failure(post(sim, `/providers/${simAccountId(7)}/deactivate`, { idem: 'r-3' }));
    expectConforms(
      await post(sim, `/providers/${simAccountId(7)}/deactivate`, { idem: 'r-3' }),
      DEACTIVATE,
      'post',
      200,
      true,
    );
    expect(sim.stats()).toMatchObject({ replays: 2, executions: { noop: 1 } });
  });

  it('401 (declared on the list; also a revoked key), 400, 500, 502, 503 (ApiError)', async () => {
    expectConforms(await get(sim, '/providers', { key: null }), '/providers', 'get', 401, true);
    expectConforms(
      await get(sim, `/providers/${simAccountId(1)}`, { key: 'smx_root_bad' }),
      ONE,
      'get',
      401,
      false,
    );
    expectConforms(await get(sim, '/providers?limit=0'), '/providers', 'get', 400, false);
    sim.script(simAccountId(4), [
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
      { kind: 'status', status: 502, retryable: false },
    ]);
    expectConforms(
      await post(sim, `/providers/${simAccountId(4)}/deactivate`),
      DEACTIVATE,
      'post',
      500,
      false,
    );
    expectConforms(
      await post(sim, `/providers/${simAccountId(4)}/deactivate`),
      DEACTIVATE,
      'post',
      503,
      false,
    );
    expectConforms(
      await post(sim, `/providers/${simAccountId(4)}/deactivate`),
      DEACTIVATE,
      'post',
      502,
      false,
    );
    sim.setKeyRevoked(true);
    expectConforms(
      await post(sim, `/providers/${simAccountId(4)}/deactivate`),
      DEACTIVATE,
      'post',
      401,
      false,
    );
    expectConforms(await get(sim, '/providers'), '/providers', 'get', 401, true);
    sim.setKeyRevoked(false);
  });

  it('a mutate step is off-contract on purpose', async () => {
    sim.script(simAccountId(8), [{ kind: 'mutate', set: { status: 'disabled' } }]);
    const r = await post(sim, `/providers/${simAccountId(8)}/deactivate`);
    expect(r.status).toBe(200);
    expect(validatorFor(declaredRef(DEACTIVATE, 'post', 200).ref)(r.json)).toBe(false);
  });

  it('403 (declared on the list) and 429 (ApiError)', async () => {
    const limited = await startSimulator({
      accounts: 2,
      rateLimit: 1,
      readOnlyApiKey: 'smx_root_ro',
    });
    try {
      expectConforms(
        await post(limited, `/providers/${simAccountId(1)}/deactivate`, { key: 'smx_root_ro' }),
        DEACTIVATE,
        'post',
        403,
        false,
      );
      await get(limited, '/providers');
      expectConforms(await get(limited, '/providers'), '/providers', 'get', 429, false);
      expectConforms(await get(limited, '/emails/logs'), '/emails/logs', 'get', 429, false);
    } finally {
      await limited.close();
    }
  });

  it('GET /emails/logs: 200 pages (empty, middle, last, every status, nulls), 401, 400', async () => {
    const LOGS = '/emails/logs';
    expectConforms(await get(sim, LOGS), LOGS, 'get', 200, true);
    sim.addDeliveryLogs([
      { provider_id: simAccountId(1), message_id: '<a@sim>' },
      { provider_id: simAccountId(2), message_id: '<b@sim>', status: 'pending' },
      { provider_id: SIM_SHARED_SES_ID, message_id: '<c@sim>', status: 'failed' },
      {
        provider_id: 'dprov_gone',
        message_id: '<d@sim>',
        status: 'rejected',
        status_reason: 'Blocked',
        to_email: null,
        subject: null,
        size_bytes: null,
        recipient_count: null,
        created_at: '2026-03-04T05:06:07.123+02:00',
      },
    ]);
    const page = await get(sim, `${LOGS}?limit=2`);
    expectConforms(page, LOGS, 'get', 200, true);
    const next = (page.json as { pagination: { next_cursor: string } }).pagination.next_cursor;
    expectConforms(await get(sim, `${LOGS}?limit=2&cursor=${next}`), LOGS, 'get', 200, true);
    expectConforms(await get(sim, `${LOGS}?search=%40sim`), LOGS, 'get', 200, true);
    expectConforms(await get(sim, LOGS, { key: null }), LOGS, 'get', 401, true);
    expectConforms(await get(sim, `${LOGS}?limit=0`), LOGS, 'get', 400, false);
    const items = (await get(sim, LOGS)).json as { data: Record<string, unknown>[] };
    expect(items.data).toHaveLength(4);
    // The validator is not vacuous for these either.
    const validate = validatorFor('#/components/schemas/DeliveryLogItemCursorListResponse');
    const first = items.data[0] ?? {};
    const missing = { ...first };
    delete missing.provider_id;
    for (const data of [[{ ...first, extra: 1 }], [missing], [{ ...first, status: 'bounced' }]])
      expect(validate({ ...items, data })).toBe(false);
  });

  it('304 has no body', async () => {
    const first = await get(sim, `/providers/${simAccountId(1)}`);
    const r = await get(sim, `/providers/${simAccountId(1)}`, {
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    expect(r.status).toBe(304);
    expect(declaredRef(ONE, 'get', 304).declared).toBe(false);
    expect(r.text).toBe('');
  });
});
