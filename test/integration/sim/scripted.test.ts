/** Scripted answers the pipeline tests need: status with retryable, 502, mutate, conflict, revoked key. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FAULTS, simAccountId } from '../../../src/sim/index.js';
import type { Simulator } from '../../../src/sim/index.js';
import { envelope, get, http, post, useSimulator } from './helpers.js';

let sim: Simulator;
const id = simAccountId(1);
const path = `/providers/${id}/deactivate`;

useSimulator(
  { accounts: 5, readOnlyApiKey: 'smx_root_ro' },
  (s) => (sim = s),
  (s) => {
    s.setFaults(DEFAULT_FAULTS);
  },
);

function adminPost(p: string, body: unknown): ReturnType<typeof http> {
  return http('POST', `${sim.origin}/__sim${p}`, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('status steps', () => {
  it('a 5xx can say retryable: false; nothing executes and nothing is cached', async () => {
    sim.script(id, [
      { kind: 'status', status: 500, retryable: false },
      { kind: 'status', status: 503, retryable: false, retryAfterS: 9 },
    ]);
    const a = await post(sim, path, { idem: 's-1' });
    expect(a.status).toBe(500);
    expect(envelope(a).error).toMatchObject({ code: 'internal_error', retryable: false });
    const b = await post(sim, path, { idem: 's-1' });
    expect(b.status).toBe(503);
    expect(envelope(b).error).toMatchObject({ code: 'service_unavailable', retryable: false });
    expect(b.headers['retry-after']).toBe('9');
    expect(sim.stats().executions.total).toBe(0);
    expect((await post(sim, path, { idem: 's-1' })).status).toBe(200);
    expect(sim.stats()).toMatchObject({ replays: 0, executions: { total: 1 } });
  });

  it('502 answers internal_error, retryable by default, counted in faults.error502', async () => {
    sim.script(id, [{ kind: 'status', status: 502 }]);
    const r = await post(sim, path);
    expect(r.status).toBe(502);
    expect(envelope(r).error).toMatchObject({ code: 'internal_error', retryable: true });
    expect(r.headers['retry-after']).toBeUndefined();
    expect(r.headers['x-request-id']).toBe(envelope(r).meta.request_id);
    expect(sim.stats()).toMatchObject({ executions: { total: 0 }, faults: { error502: 1 } });
  });

  it('rejects statuses outside 429, 500, 502, 503 and a non-boolean retryable', () => {
    expect(() => {
      sim.script(id, [{ kind: 'status', status: 504 as 502 }]);
    }).toThrow();
    expect(() => {
      sim.script(id, [{ kind: 'status', status: 500, retryable: 'no' as unknown as boolean }]);
    }).toThrow();
  });
});

describe('mutate', () => {
  it('executes, rewrites fields of data in the 200 body, and replays the body as sent', async () => {
    sim.script(id, [{ kind: 'mutate', set: { status: 'disabled', extra_field: [1, 2] } }]);
    const r = await post(sim, path, { idem: 'm-1' });
    expect(r.status).toBe(200);
    expect(envelope(r).data).toMatchObject({
      id,
      status: 'disabled',
      is_active: false,
      extra_field: [1, 2],
    });
    expect(envelope(r).meta.request_id).toBe(r.headers['x-request-id']);
    // The stored account is the real one.
    expect(sim.account(id)?.status).toBe('inactive');
    const replay = await post(sim, path, { idem: 'm-1' });
    expect(replay.text).toBe(r.text);
    expect(sim.stats()).toMatchObject({
      replays: 1,
      executions: { total: 1 },
      faults: { mutate: 1 },
    });
  });

  it('can answer for another account id; non-200 answers are left alone', async () => {
    sim.script(id, [{ kind: 'mutate', set: { id: 'dprov_other' } }]);
    const r = await post(sim, path);
    expect(envelope(r).data?.id).toBe('dprov_other');
    sim.script('dprov_missing', [{ kind: 'mutate', set: { id: 'dprov_other' } }]);
    const missing = await post(sim, '/providers/dprov_missing/deactivate');
    expect(missing.status).toBe(404);
    expect(envelope(missing).error?.code).toBe('not_found');
  });

  it('is accepted over POST /__sim/script and rejects a non-object set', async () => {
    const ok = await adminPost('/script', {
      provider_id: id,
      steps: [{ kind: 'mutate', set: { status_reason: 'Mutated' } }],
    });
    expect(ok.status).toBe(200);
    expect(envelope(await post(sim, path)).data?.status_reason).toBe('Mutated');
    const bad = await adminPost('/script', {
      provider_id: id,
      steps: [{ kind: 'mutate', set: 1 }],
    });
    expect(bad.status).toBe(400);
  });
});

describe('conflict', () => {
  it('answers 409 conflict without executing; the answer is cached like a real 409', async () => {
    sim.script(id, [{ kind: 'conflict' }]);
    const r = await post(sim, path, { idem: 'c-1' });
    expect(r.status).toBe(409);
    expect(envelope(r).error).toMatchObject({ code: 'conflict', retryable: false });
    expect(sim.account(id)?.status).toBe('active');
    const replay = await post(sim, path, { idem: 'c-1' });
    expect(replay.text).toBe(r.text);
    expect(sim.stats()).toMatchObject({
      replays: 1,
      executions: { total: 0 },
      faults: { conflict: 1 },
    });
    // Without a key (or with another key) the next request executes.
    expect((await post(sim, path)).status).toBe(200);
  });
});

describe('revoked key', () => {
  it('setKeyRevoked(true): every API request answers 401 until switched back', async () => {
    sim.script(id, [{ kind: 'status', status: 500 }]);
    sim.setKeyRevoked(true);
    for (const r of [
      await get(sim, '/providers'),
      await get(sim, `/providers/${id}`),
      await get(sim, '/providers', { key: 'smx_root_ro' }),
      await post(sim, path, { idem: 'rv-1' }),
      await get(sim, '/no-such-route'),
    ]) {
      expect(r.status).toBe(401);
      expect(envelope(r).error).toMatchObject({
        code: 'authentication_required',
        retryable: false,
      });
      expect(r.headers['x-request-id']).toBe(envelope(r).meta.request_id);
      expect(r.headers['x-ratelimit-limit']).toBe('600');
    }
    // Admin routes stay open.
    expect((await http('GET', `${sim.origin}/__sim/stats`)).status).toBe(200);
    expect(sim.stats().executions.total).toBe(0);
    sim.setKeyRevoked(false);
    // The scripted step was not consumed by the 401s.
    expect((await post(sim, path, { idem: 'rv-1' })).status).toBe(500);
    expect((await post(sim, path, { idem: 'rv-1' })).status).toBe(200);
  });

  it('POST /__sim/auth switches it; GET reports it; bad bodies get 400; reset clears it', async () => {
    const on = await adminPost('/auth', { revoked: true });
    expect(on.status).toBe(200);
    expect(on.json).toEqual({ ok: true, data: { revoked: true } });
    expect((await get(sim, '/providers')).status).toBe(401);
    expect((await http('GET', `${sim.origin}/__sim/auth`)).json).toEqual({
      ok: true,
      data: { revoked: true },
    });
    expect((await adminPost('/auth', { revoked: 'yes' })).status).toBe(400);
    expect((await adminPost('/auth', {})).status).toBe(400);
    expect((await adminPost('/auth', { revoked: false })).status).toBe(200);
    expect((await get(sim, '/providers')).status).toBe(200);
    sim.setKeyRevoked(true);
    sim.reset();
    expect((await get(sim, '/providers')).status).toBe(200);
  });
});
