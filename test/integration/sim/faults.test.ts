import { Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_FAULTS, simAccountId, startSimulator } from '../../../src/sim/index.js';
import type { Simulator } from '../../../src/sim/index.js';
import { envelope, failure, get, post, sequenceRng, useSimulator, waitFor } from './helpers.js';

let sim: Simulator;
const id = simAccountId(1);
const path = `/providers/${id}/deactivate`;

useSimulator(
  { accounts: 5 },
  (s) => (sim = s),
  (s) => {
    s.setFaults(DEFAULT_FAULTS);
  },
);

function expectNotExecuted(): void {
  expect(sim.stats().executions.total).toBe(0);
  expect(sim.account(id)?.status).toBe('active');
}

describe('scripted faults', () => {
  it('500 internal_error, retryable, without executing', async () => {
    sim.script(id, [{ kind: 'status', status: 500 }]);
    const r = await post(sim, path, { idem: 'k1' });
    expect(r.status).toBe(500);
    expect(envelope(r).error).toMatchObject({ code: 'internal_error', retryable: true });
    expect(r.headers['x-request-id']).toBe(envelope(r).meta.request_id);
    expectNotExecuted();
    expect(sim.stats().faults.error500).toBe(1);
  });

  it('503 service_unavailable with Retry-After (default, scripted, configured)', async () => {
    sim.script(id, [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 503, retryAfterS: 7 },
    ]);
    const a = await post(sim, path);
    expect(a.status).toBe(503);
    expect(envelope(a).error).toMatchObject({ code: 'service_unavailable', retryable: true });
    expect(a.headers['retry-after']).toBe('1');
    expect((await post(sim, path)).headers['retry-after']).toBe('7');
    sim.setFaults({ retryAfter503S: 3 });
    sim.script(id, [{ kind: 'status', status: 503 }]);
    expect((await post(sim, path)).headers['retry-after']).toBe('3');
    expectNotExecuted();
    expect(sim.stats().faults.error503).toBe(3);
  });

  it('429 rate_limit_exceeded with Retry-After', async () => {
    sim.script(id, [{ kind: 'status', status: 429, retryAfterS: 2 }]);
    const r = await post(sim, path);
    expect(r.status).toBe(429);
    expect(envelope(r).error).toMatchObject({ code: 'rate_limit_exceeded', retryable: true });
    expect(r.headers['retry-after']).toBe('2');
    expectNotExecuted();
  });

  it('drop: the client sees a connection reset, nothing executes', async () => {
    sim.script(id, [{ kind: 'drop' }]);
    const f = await failure(post(sim, path, { idem: 'k2' }));
    expect(f.code).toBe('ECONNRESET');
    expectNotExecuted();
    expect(sim.stats().faults.drop).toBe(1);
    expect((await post(sim, path, { idem: 'k2' })).status).toBe(200);
  });

  it('hang: the client times out, nothing executes', async () => {
    sim.script(id, [{ kind: 'hang' }]);
    const f = await failure(post(sim, path, { idem: 'k3', timeoutMs: 150 }));
    expect(f.name).toBe('TimeoutError');
    expect(f.code).toBe('ETIMEDOUT');
    expectNotExecuted();
    expect(sim.stats().faults.hang).toBe(1);
    expect((await post(sim, path, { idem: 'k3' })).status).toBe(200);
  });

  it('consumes steps one per action request, in order, then behaves normally', async () => {
    sim.script(id, [{ kind: 'status', status: 500 }]);
    sim.script(id, [{ kind: 'status', status: 503 }]);
    expect((await get(sim, `/providers/${id}`)).status).toBe(200);
    expect((await post(sim, path)).status).toBe(500);
    expect((await post(sim, `/providers/${simAccountId(2)}/deactivate`)).status).toBe(200);
    expect((await post(sim, path)).status).toBe(503);
    expect((await post(sim, path)).status).toBe(200);
  });

  it('delay: executes, then holds the response', async () => {
    sim.script(id, [{ kind: 'delay', ms: 200 }]);
    const t0 = Date.now();
    const r = await post(sim, path);
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(180);
    expect(sim.stats().executions.total).toBe(1);
  });

  it('rejects invalid steps', () => {
    expect(() => {
      sim.script(id, [{ kind: 'status', status: 504 as 500 }]);
    }).toThrow();
    expect(() => {
      sim.script(id, [{ kind: 'mutate', set: { x: undefined } }]);
    }).toThrow();
  });
});

describe('random faults', () => {
  const rngValues = [0.05, 0.15, 0.25, 0.35, 0.9];
  let rsim: Simulator;
  afterEach(async () => {
    await rsim.close();
  });

  it('picks 500, 503, drop, hang or success from the injected RNG', async () => {
    rsim = await startSimulator({
      accounts: 2,
      random: sequenceRng(rngValues),
      faults: {
        error500Rate: 0.1,
        error503Rate: 0.1,
        dropRate: 0.1,
        hangRate: 0.1,
        retryAfter503S: 4,
      },
    });
    const p = `/providers/${simAccountId(1)}/deactivate`;
    expect((await post(rsim, p)).status).toBe(500);
    const r503 = await post(rsim, p);
    expect(r503.status).toBe(503);
    expect(r503.headers['retry-after']).toBe('4');
    expect((await failure(post(rsim, p))).code).toBe('ECONNRESET');
    expect((await failure(post(rsim, p, { timeoutMs: 150 }))).code).toBe('ETIMEDOUT');
    expect(rsim.stats().executions.total).toBe(0);
    expect((await post(rsim, p)).status).toBe(200);
    expect(rsim.stats()).toMatchObject({
      executions: { total: 1 },
      faults: { error500: 1, error503: 1, drop: 1, hang: 1 },
    });
    expect((await get(rsim, `/providers/${simAccountId(1)}`)).status).toBe(200);
  });

  it('adds latency (with jitter from the RNG) after executing', async () => {
    rsim = await startSimulator({
      accounts: 2,
      random: () => 0.5,
      faults: { latencyMs: 100, latencyJitterMs: 100 },
    });
    const t0 = Date.now();
    expect((await post(rsim, `/providers/${simAccountId(1)}/deactivate`)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    const t1 = Date.now();
    expect((await get(rsim, `/providers/${simAccountId(1)}`)).status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(100);
  });

  it('faults only action requests', async () => {
    rsim = await startSimulator({ accounts: 2, faults: { error500Rate: 1 } });
    expect((await get(rsim, '/providers')).status).toBe(200);
    expect((await post(rsim, `/providers/${simAccountId(1)}/activate`)).status).toBe(500);
  });

  it('rejects invalid fault settings', async () => {
    await expect(startSimulator({ faults: { error500Rate: 2 } })).rejects.toThrow();
    rsim = await startSimulator({ accounts: 1 });
    expect(() => {
      rsim.setFaults({ dropRate: -1 });
    }).toThrow();
  });
});

describe('close()', () => {
  it('returns promptly with a hanging request and a keep-alive connection open', async () => {
    const csim = await startSimulator({ accounts: 2 });
    const agent = new Agent({ keepAlive: true });
    try {
      expect((await get(csim, '/providers', { agent })).status).toBe(200);
      expect(agent.freeSockets).not.toEqual({});
      csim.script(simAccountId(1), [{ kind: 'hang' }]);
      const pending = failure(
        post(csim, `/providers/${simAccountId(1)}/deactivate`, { timeoutMs: 20_000 }),
      );
      await waitFor(() => csim.stats().faults.hang === 1);
      const t0 = Date.now();
      await csim.close();
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect((await pending).code).toBeDefined();
    } finally {
      agent.destroy();
    }
  });

  it('returns promptly with a delayed response pending', async () => {
    const csim = await startSimulator({ accounts: 2 });
    csim.script(simAccountId(1), [{ kind: 'delay', ms: 20_000 }]);
    const pending = failure(
      post(csim, `/providers/${simAccountId(1)}/deactivate`, { timeoutMs: 30_000 }),
    );
    await waitFor(() => csim.stats().executions.total === 1);
    const t0 = Date.now();
    await csim.close();
    await csim.close();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect((await pending).code).toBeDefined();
  });
});
