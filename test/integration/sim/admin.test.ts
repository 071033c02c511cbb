import { describe, expect, it } from 'vitest';
import { simAccountId } from '../../../src/sim/index.js';
import type { SimStats, Simulator } from '../../../src/sim/index.js';
import { http, post, useSimulator } from './helpers.js';

let sim: Simulator;

useSimulator(
  { accounts: 5 },
  (s) => (sim = s),
  (s) => {
    s.setFaults({ error500Rate: 0 });
  },
);

async function admin(
  method: 'GET' | 'POST',
  path: string,
  body?: string,
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> =
    body === undefined ? {} : { 'content-type': 'application/json' };
  const r = await http(method, `${sim.origin}/__sim${path}`, { headers, body });
  expect(r.headers['cache-control']).toBe('no-store');
  return { status: r.status, json: r.json };
}

describe('/__sim admin routes', () => {
  it('GET /__sim/stats returns the same counters as stats(), and is not counted', async () => {
    await post(sim, `/providers/${simAccountId(1)}/deactivate`, { idem: 'a' });
    await post(sim, `/providers/${simAccountId(1)}/deactivate`, { idem: 'a' });
    const r = await admin('GET', '/stats');
    expect(r.status).toBe(200);
    const stats = r.json as SimStats;
    expect(stats).toEqual(sim.stats());
    expect(stats).toMatchObject({
      requests: 2,
      replays: 1,
      executions: {
        total: 1,
        byKey: { a: 1 },
        byAccount: { [simAccountId(1)]: { activate: 0, deactivate: 1 } },
      },
    });
  });

  it('POST /__sim/faults applies valid settings and rejects bad ones with 400', async () => {
    const ok = await admin(
      'POST',
      '/faults',
      JSON.stringify({ error500Rate: 1, retryAfter503S: 2 }),
    );
    expect(ok.status).toBe(200);
    expect((await post(sim, `/providers/${simAccountId(2)}/deactivate`)).status).toBe(500);
    for (const bad of [
      '{"error500Rate":1.5}',
      '{"unknown":1}',
      '{"latencyMs":"10"}',
      '{not json',
      '[1]',
    ]) {
      expect((await admin('POST', '/faults', bad)).status).toBe(400);
    }
    const current = await admin('GET', '/faults');
    expect(current.json).toMatchObject({ data: { error500Rate: 1, retryAfter503S: 2 } });
  });

  it('POST /__sim/script queues steps and rejects bad ones', async () => {
    const ok = await admin(
      'POST',
      '/script',
      JSON.stringify({
        provider_id: simAccountId(3),
        steps: [{ kind: 'status', status: 503, retryAfterS: 5 }],
      }),
    );
    expect(ok.status).toBe(200);
    const r = await post(sim, `/providers/${simAccountId(3)}/activate`);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(
      (
        await admin(
          'POST',
          '/script',
          JSON.stringify({ provider_id: simAccountId(3), steps: [{ kind: 'boom' }] }),
        )
      ).status,
    ).toBe(400);
    expect((await admin('POST', '/script', JSON.stringify({ steps: [] }))).status).toBe(400);
  });

  it('POST /__sim/reset zeroes stats, clears keys and re-seeds accounts', async () => {
    await post(sim, `/providers/${simAccountId(4)}/deactivate`, { idem: 'b' });
    expect(sim.account(simAccountId(4))?.status).toBe('inactive');
    const r = await http('POST', `${sim.origin}/__sim/reset`);
    expect(r.status).toBe(200);
    expect(sim.account(simAccountId(4))?.status).toBe('active');
    expect(sim.stats()).toMatchObject({
      requests: 0,
      replays: 0,
      executions: { total: 0, byKey: {} },
    });
    await post(sim, `/providers/${simAccountId(4)}/deactivate`, { idem: 'b' });
    expect(sim.stats()).toMatchObject({ replays: 0, executions: { total: 1 } });
  });
});
