import { describe, expect, it } from 'vitest';
import { simAccountId, startSimulator } from '../../../src/sim/index.js';
import type { Simulator } from '../../../src/sim/index.js';
import { envelope, failure, get, post, useSimulator, waitFor } from './helpers.js';
import type { CallResult } from './helpers.js';

let sim: Simulator;

useSimulator({ accounts: 20 }, (s) => (sim = s));

describe('Idempotency-Key', () => {
  it('replays the original status, body and request id without executing again', async () => {
    const path = `/providers/${simAccountId(1)}/deactivate`;
    const first = await post(sim, path, { idem: 'op-1' });
    const second = await post(sim, path, { idem: 'op-1' });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(second.headers['x-request-id']).toBe(first.headers['x-request-id']);
    expect(envelope(second).meta.request_id).toBe(first.headers['x-request-id']);
    const s = sim.stats();
    expect(s.executions.total).toBe(1);
    expect(s.executions.byKey['op-1']).toBe(1);
    expect(s.replays).toBe(1);
    expect(s.requests).toBe(2);
  });

  it('replays cached 4xx outcomes too (404)', async () => {
    const first = await post(sim, '/providers/dprov_missing/deactivate', { idem: 'op-404' });
    const second = await post(sim, '/providers/dprov_missing/deactivate', { idem: 'op-404' });
    expect(first.status).toBe(404);
    expect(second.status).toBe(404);
    expect(second.text).toBe(first.text);
    expect(sim.stats().replays).toBe(1);
  });

  it('executes every time without a key', async () => {
    const path = `/providers/${simAccountId(2)}/deactivate`;
    await post(sim, path);
    await post(sim, path);
    expect(sim.stats().executions.total).toBe(2);
    expect(sim.stats().replays).toBe(0);
  });

  it('answers 409 idempotency_conflict to a concurrent request while the first is in flight', async () => {
    const id = simAccountId(3);
    sim.script(id, [{ kind: 'delay', ms: 300 }]);
    const first = post(sim, `/providers/${id}/deactivate`, { idem: 'op-2' });
    await waitFor(() => sim.stats().executions.total === 1);
    const second = await post(sim, `/providers/${id}/deactivate`, { idem: 'op-2' });
    expect(second.status).toBe(409);
    expect(envelope(second).error).toMatchObject({
      code: 'idempotency_conflict',
      retryable: false,
    });
    expect((await first).status).toBe(200);
    const third = await post(sim, `/providers/${id}/deactivate`, { idem: 'op-2' });
    expect(third.status).toBe(200);
    expect(third.headers['x-request-id']).toBe((await first).headers['x-request-id']);
    expect(sim.stats()).toMatchObject({
      inFlightConflicts: 1,
      replays: 1,
      executions: { total: 1 },
    });
  });

  it('scopes keys per (team, endpoint, key): another action or account is a new operation', async () => {
    const off4 = `/providers/${simAccountId(4)}/deactivate`;
    const first = await post(sim, off4, { idem: 'op-3' });
    expect(first.status).toBe(200);
    const on4 = await post(sim, `/providers/${simAccountId(4)}/activate`, { idem: 'op-3' });
    expect(on4.status).toBe(200);
    expect(envelope(on4).data).toMatchObject({ status: 'active' });
    const off5 = await post(sim, `/providers/${simAccountId(5)}/deactivate`, { idem: 'op-3' });
    expect(off5.status).toBe(200);
    expect(sim.account(simAccountId(5))?.status).toBe('inactive');
    // The first endpoint still replays its own answer, even though the account changed since.
    const again = await post(sim, off4, { idem: 'op-3' });
    expect(again.text).toBe(first.text);
    expect(sim.account(simAccountId(4))?.status).toBe('active');
    expect(sim.stats()).toMatchObject({
      replays: 1,
      inFlightConflicts: 0,
      executions: { total: 3, byKey: { 'op-3': 3 } },
    });
  });

  it('replays the original headers verbatim (X-RateLimit-*, X-Request-Id) and still counts the replay', async () => {
    const path = `/providers/${simAccountId(8)}/deactivate`;
    const first = await post(sim, path, { idem: 'hdr-1' });
    const replay = await post(sim, path, { idem: 'hdr-1' });
    expect(replay.status).toBe(first.status);
    expect(replay.text).toBe(first.text);
    for (const h of [
      'x-request-id',
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
      'cache-control',
      'content-type',
    ]) {
      expect(replay.headers[h], h).toBe(first.headers[h]);
    }
    // The replay was a request: the limiter counted it.
    const next = await get(sim, `/providers/${simAccountId(8)}`);
    expect(Number(next.headers['x-ratelimit-remaining'])).toBe(
      Number(first.headers['x-ratelimit-remaining']) - 2,
    );
  });

  it('replays a delayed answer with the headers it was sent with', async () => {
    const id = simAccountId(9);
    sim.script(id, [{ kind: 'delay', ms: 100 }]);
    const first = await post(sim, `/providers/${id}/deactivate`, { idem: 'hdr-2' });
    await get(sim, `/providers/${id}`);
    const replay = await post(sim, `/providers/${id}/deactivate`, { idem: 'hdr-2' });
    expect(replay.text).toBe(first.text);
    expect(replay.headers['x-ratelimit-remaining']).toBe(first.headers['x-ratelimit-remaining']);
    expect(replay.headers['x-request-id']).toBe(first.headers['x-request-id']);
  });

  it('finishes the work when the client aborts during a delay: the retry is a replay', async () => {
    const id = simAccountId(6);
    sim.script(id, [{ kind: 'delay', ms: 1_000 }]);
    const crashed = await failure(
      post(sim, `/providers/${id}/deactivate`, { idem: 'op-4', timeoutMs: 100 }),
    );
    expect(crashed.code).toBe('ETIMEDOUT');
    expect(sim.account(id)?.status).toBe('inactive');

    // The work is still running after the client left: retries get 409 until it ends.
    // A well-behaved client retries an in-flight 409 after a short wait.
    let retry: CallResult | undefined;
    let conflicts = 0;
    for (let attempt = 0; attempt < 100; attempt++) {
      retry = await post(sim, `/providers/${id}/deactivate`, { idem: 'op-4' });
      if (retry.status !== 409) break;
      conflicts++;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(conflicts).toBeGreaterThan(0);
    expect(retry?.status).toBe(200);
    expect(retry && envelope(retry).data).toMatchObject({ id, status: 'inactive' });
    const s = sim.stats();
    expect(s.executions.total).toBe(1);
    expect(s.replays).toBe(1);
  });

  it('does not cache faults: a retry after a scripted 500 executes once', async () => {
    const id = simAccountId(7);
    sim.script(id, [{ kind: 'status', status: 500 }]);
    expect((await post(sim, `/providers/${id}/deactivate`, { idem: 'op-5' })).status).toBe(500);
    expect((await post(sim, `/providers/${id}/deactivate`, { idem: 'op-5' })).status).toBe(200);
    expect((await post(sim, `/providers/${id}/deactivate`, { idem: 'op-5' })).status).toBe(200);
    expect(sim.stats()).toMatchObject({ replays: 1, executions: { total: 1 } });
  });

  it('forgets keys after the TTL', async () => {
    const short = await startSimulator({ accounts: 2, idempotencyTtlMs: 50 });
    try {
      const path = `/providers/${simAccountId(1)}/deactivate`;
      await post(short, path, { idem: 'op-6' });
      await new Promise((r) => setTimeout(r, 80));
      await post(short, path, { idem: 'op-6' });
      expect(short.stats()).toMatchObject({ replays: 0, executions: { total: 2 } });
    } finally {
      await short.close();
    }
  });
});
