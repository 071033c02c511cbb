/**
 * The simulator's additions for the model test: the execution log (in process and
 * GET /__sim/log), changes made outside (POST /__sim/accounts/:id/state), unreadable accounts
 * (POST /__sim/accounts/:id/readable) and read faults (`readError500Rate`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';

const KEY = 'smx_root_sim_key';
let sim: Simulator;

beforeEach(async () => {
  sim = await startSimulator({ accounts: 3, rateLimit: 0 });
});
afterEach(async () => {
  await sim.close();
});

async function call(
  method: 'GET' | 'POST',
  path: string,
  opts: { idem?: string; body?: unknown; admin?: boolean } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { connection: 'close' };
  if (!opts.admin) headers.authorization = `Bearer ${KEY}`;
  if (opts.idem) headers['idempotency-key'] = opts.idem;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${opts.admin ? `${sim.origin}/__sim` : sim.url}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('simulator additions', () => {
  it('logs each execution once (replays and no-ops as such) with its key and time', async () => {
    const a = simAccountId(1);
    const before = Date.now();
    await call('POST', `/providers/${a}/deactivate`, { idem: 'k1' });
    await call('POST', `/providers/${a}/deactivate`, { idem: 'k1' }); // replay
    await call('POST', `/providers/${a}/deactivate`, { idem: 'k2' }); // no-op
    const log = sim.log();
    expect(log.map((e) => [e.key, e.account, e.action, e.changed, e.via])).toEqual([
      ['k1', a, 'deactivate', true, 'api'],
      ['k2', a, 'deactivate', false, 'api'],
    ]);
    expect(log[0]?.at).toBeGreaterThanOrEqual(before);
    const viaHttp = await call('GET', '/log', { admin: true });
    expect(viaHttp.json.data).toEqual(log);
    sim.reset();
    expect(sim.log()).toEqual([]);
  });

  it('changes an account outside: status set, updated_at bumped, logged; unknown id 404', async () => {
    const a = simAccountId(2);
    const old = sim.account(a)?.updated_at;
    const r = await call('POST', `/accounts/${a}/state`, {
      admin: true,
      body: { status: 'inactive' },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ changed: true, data: { id: a, status: 'inactive' } });
    const item = sim.account(a);
    expect(item).toMatchObject({ status: 'inactive', is_active: false });
    expect(item?.updated_at).not.toBe(old);
    // The same status again changes nothing.
    expect(sim.setAccountStatus(a, 'inactive')?.updated_at).toBe(item?.updated_at);
    expect(sim.setAccountStatus(a, 'active')).toMatchObject({ status: 'active', is_active: true });
    expect(sim.log().map((e) => [e.via, e.action, e.changed, e.key])).toEqual([
      ['outside', 'deactivate', true, null],
      ['outside', 'deactivate', false, null],
      ['outside', 'activate', true, null],
    ]);
    expect(
      (
        await call('POST', `/accounts/dprov_nope/state`, {
          admin: true,
          body: { status: 'active' },
        })
      ).status,
    ).toBe(404);
    expect(
      (await call('POST', `/accounts/${a}/state`, { admin: true, body: { status: 'error' } }))
        .status,
    ).toBe(400);
  });

  it('an unreadable account answers 500 to GET, the others and the actions do not', async () => {
    const a = simAccountId(1);
    const b = simAccountId(2);
    const r = await call('POST', `/accounts/${a}/readable`, {
      admin: true,
      body: { readable: false },
    });
    expect(r.status).toBe(200);
    expect((await call('GET', `/providers/${a}`)).status).toBe(500);
    expect((await call('GET', `/providers/${b}`)).status).toBe(200);
    expect((await call('GET', `/providers`)).status).toBe(200);
    expect((await call('POST', `/providers/${a}/deactivate`, { idem: 'x' })).status).toBe(200);
    sim.setReadable(a, true);
    expect((await call('GET', `/providers/${a}`)).status).toBe(200);
  });

  it('readError500Rate fails reads only; the actions keep their own rates', async () => {
    sim.setFaults({ readError500Rate: 1 });
    expect((await call('GET', `/providers/${simAccountId(1)}`)).status).toBe(500);
    expect((await call('GET', `/providers`)).status).toBe(500);
    expect((await call('POST', `/providers/${simAccountId(1)}/deactivate`)).status).toBe(200);
    sim.setFaults({ readError500Rate: 0 });
    expect((await call('GET', `/providers/${simAccountId(1)}`)).status).toBe(200);
  });
});
