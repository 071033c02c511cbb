import { describe, expect, it } from 'vitest';
import { SIM_LOCKED_ID, SIM_SHARED_SES_ID, simAccountId } from '../../../src/sim/index.js';
import type { Simulator } from '../../../src/sim/index.js';
import { envelope, get, post, useSimulator } from './helpers.js';

const READ_KEY = 'smx_root_read_only';
const REQUEST_ID = /^req_[a-z0-9]{25}$/;

let sim: Simulator;

useSimulator({ accounts: 30, readOnlyApiKey: READ_KEY }, (s) => (sim = s));

describe('auth', () => {
  it('answers 401 authentication_required without or with a wrong bearer token', async () => {
    for (const key of [null, 'smx_root_wrong']) {
      const r = await get(sim, '/providers', { key });
      expect(r.status).toBe(401);
      const e = envelope(r);
      expect(e.ok).toBe(false);
      expect(e.error).toEqual({
        code: 'authentication_required',
        message: expect.any(String) as string,
        retryable: false,
      });
      expect(r.headers['x-request-id']).toBe(e.meta.request_id);
      expect(r.headers['x-ratelimit-limit']).toBe('600');
      expect(r.headers['cache-control']).toBe('no-store');
    }
    expect(sim.stats().executions.total).toBe(0);
  });

  it('lets a read-only key GET but answers 403 insufficient_permissions on actions', async () => {
    expect((await get(sim, `/providers/${simAccountId(1)}`, { key: READ_KEY })).status).toBe(200);
    for (const action of ['deactivate', 'activate']) {
      const r = await post(sim, `/providers/${simAccountId(1)}/${action}`, { key: READ_KEY });
      expect(r.status).toBe(403);
      expect(envelope(r).error?.code).toBe('insufficient_permissions');
      expect(envelope(r).error?.retryable).toBe(false);
    }
    expect(sim.account(simAccountId(1))?.status).toBe('active');
    expect(sim.stats().executions.total).toBe(0);
  });
});

describe('envelope and headers', () => {
  it('wraps success in {ok,data,meta} with X-Request-Id equal to meta.request_id', async () => {
    const r = await get(sim, `/providers/${simAccountId(3)}`);
    expect(r.status).toBe(200);
    const e = envelope(r);
    expect(Object.keys(e).sort()).toEqual(['data', 'meta', 'ok']);
    expect(e.ok).toBe(true);
    expect(e.meta.request_id).toMatch(REQUEST_ID);
    expect(r.headers['x-request-id']).toBe(e.meta.request_id);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['x-ratelimit-remaining']).toMatch(/^\d+$/);
    expect(Number(r.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
  });

  it('gives every response a fresh request id', async () => {
    const a = await get(sim, '/providers?limit=1');
    const b = await get(sim, '/providers?limit=1');
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });

  it('answers 404 not_found for an unknown account and unknown routes', async () => {
    for (const r of [
      await get(sim, '/providers/dprov_nope'),
      await post(sim, '/providers/dprov_nope/deactivate'),
      await get(sim, '/no-such-route'),
    ]) {
      expect(r.status).toBe(404);
      expect(envelope(r).error?.code).toBe('not_found');
      expect(envelope(r).error?.retryable).toBe(false);
      expect(r.headers['x-request-id']).toBe(envelope(r).meta.request_id);
    }
  });
});

describe('actions', () => {
  it('deactivates, then GET shows the account inactive', async () => {
    const id = simAccountId(2);
    const r = await post(sim, `/providers/${id}/deactivate`);
    expect(r.status).toBe(200);
    expect(envelope(r).data).toMatchObject({
      id,
      status: 'inactive',
      is_active: false,
      status_reason: 'Deactivated via API',
    });
    expect(envelope(r).data?.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const g = await get(sim, `/providers/${id}`);
    expect(envelope(g).data).toMatchObject({ status: 'inactive', is_active: false });
    expect(sim.account(id)?.status).toBe('inactive');
    const s = sim.stats();
    expect(s.executions.total).toBe(1);
    expect(s.executions.byKey['(none)']).toBe(1);
    expect(s.executions.byAccount[id]).toEqual({ activate: 0, deactivate: 1 });
  });

  it('activates back; doing an action twice is fine and counts twice', async () => {
    const id = simAccountId(4);
    await post(sim, `/providers/${id}/deactivate`);
    await post(sim, `/providers/${id}/deactivate`);
    const r = await post(sim, `/providers/${id}/activate`);
    expect(envelope(r).data).toMatchObject({
      status: 'active',
      is_active: true,
      status_reason: null,
    });
    expect(sim.stats().executions.byAccount[id]).toEqual({ activate: 1, deactivate: 2 });
    // The second deactivate found the account inactive already: a no-op, still an execution.
    expect(sim.stats().executions).toMatchObject({ total: 3, noop: 1 });
  });

  it('moves an OAuth account without refresh token to pending on activate', async () => {
    const id = simAccountId(22);
    expect(sim.account(id)).toMatchObject({ type: 'outlook_api', has_refresh_token: false });
    await post(sim, `/providers/${id}/deactivate`);
    const r = await post(sim, `/providers/${id}/activate`);
    expect(envelope(r).data).toMatchObject({
      status: 'pending',
      is_active: false,
      status_reason: 'Reconnect required',
    });
  });

  it('can deactivate the shared Amazon SES account', async () => {
    const r = await post(sim, `/providers/${SIM_SHARED_SES_ID}/deactivate`);
    expect(r.status).toBe(200);
    expect(envelope(r).data).toMatchObject({
      type: 'amazon_ses',
      is_shared: true,
      is_editable: false,
      status: 'inactive',
    });
  });

  it('answers 409 conflict on the locked account without executing', async () => {
    for (const action of ['deactivate', 'activate']) {
      const r = await post(sim, `/providers/${SIM_LOCKED_ID}/${action}`);
      expect(r.status).toBe(409);
      expect(envelope(r).error).toMatchObject({ code: 'conflict', retryable: false });
    }
    expect(sim.stats().executions.total).toBe(0);
    expect(sim.account(SIM_LOCKED_ID)?.status).toBe('active');
  });

  it('accepts a POST with no body, an empty JSON body, or a stray body', async () => {
    const path = `/providers/${simAccountId(5)}/deactivate`;
    expect((await post(sim, path)).status).toBe(200);
    expect(
      (await post(sim, path, { headers: { 'content-type': 'application/json' } })).status,
    ).toBe(200);
    expect(
      (await post(sim, path, { headers: { 'content-type': 'application/json' }, body: '' })).status,
    ).toBe(200);
    expect(
      (await post(sim, path, { headers: { 'content-type': 'text/plain' }, body: 'hello' })).status,
    ).toBe(200);
    expect((await post(sim, path, { body: '{}' })).status).toBe(200);
  });

  it('rejects an empty or over-long Idempotency-Key with 400 invalid_parameter', async () => {
    for (const idem of ['', 'k'.repeat(256)]) {
      const r = await post(sim, `/providers/${simAccountId(6)}/deactivate`, { idem });
      expect(r.status).toBe(400);
      expect(envelope(r).error).toMatchObject({
        code: 'invalid_parameter',
        param: 'Idempotency-Key',
        retryable: false,
      });
    }
    expect(
      (await post(sim, `/providers/${simAccountId(6)}/deactivate`, { idem: 'k'.repeat(255) }))
        .status,
    ).toBe(200);
    expect(sim.stats().executions.total).toBe(1);
  });
});

describe('ETag', () => {
  it('answers 304 with an empty body for a matching If-None-Match, 200 once the account changed', async () => {
    const id = simAccountId(8);
    const first = await get(sim, `/providers/${id}`);
    const etag = first.headers.etag;
    expect(etag).toMatch(/^W\/"[0-9a-f]{16}"$/);
    const again = await get(sim, `/providers/${id}`);
    expect(again.headers.etag).toBe(etag);

    const notModified = await get(sim, `/providers/${id}`, {
      headers: { 'if-none-match': String(etag) },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers['x-request-id']).toMatch(REQUEST_ID);
    expect(notModified.headers['cache-control']).toBe('no-store');
    expect(notModified.headers['x-ratelimit-limit']).toBe('600');

    await post(sim, `/providers/${id}/deactivate`);
    const changed = await get(sim, `/providers/${id}`, {
      headers: { 'if-none-match': String(etag) },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
  });
});

describe('seed', () => {
  it('seeds smtp, gmail_api and outlook_api accounts plus the shared and locked ones', () => {
    expect(simAccountId(1)).toBe('dprov_sim000001');
    expect(sim.account(simAccountId(1))).toMatchObject({
      type: 'smtp',
      has_smtp_password: true,
      smtp_port: 587,
      oauth_email: null,
    });
    expect(sim.account(simAccountId(7))).toMatchObject({
      type: 'gmail_api',
      has_refresh_token: true,
      smtp_host: null,
    });
    expect(sim.account(simAccountId(11))).toMatchObject({
      type: 'outlook_api',
      has_refresh_token: true,
    });
    expect(sim.account(simAccountId(22))).toMatchObject({
      type: 'outlook_api',
      has_refresh_token: false,
    });
    expect(sim.account(simAccountId(30))).toMatchObject({ status: 'active', is_active: true });
    expect(sim.account(simAccountId(31))).toBeUndefined();
    expect(sim.account(SIM_LOCKED_ID)?.allowed_actions).toMatchObject({
      activate: false,
      deactivate: false,
    });
    expect(sim.account(SIM_SHARED_SES_ID)?.allowed_actions).toMatchObject({
      activate: true,
      deactivate: true,
    });
  });

  it('returns a copy from account()', () => {
    const a = sim.account(simAccountId(1));
    if (a !== undefined) a.status = 'error';
    expect(sim.account(simAccountId(1))?.status).toBe('active');
  });
});
