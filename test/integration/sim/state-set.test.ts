/**
 * Activate/deactivate are state sets: asking for the state the account is already in answers
 * 200 with the unchanged account (updated_at not bumped) and counts as executions.noop.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simAccountId, startSimulator } from '../../../src/sim/index.js';
import type { Simulator } from '../../../src/sim/index.js';
import { envelope, get, post } from './helpers.js';

const MINUTE = 60_000;
let t = Date.UTC(2026, 5, 1, 12, 0, 0);
let sim: Simulator;

beforeEach(async () => {
  t = Date.UTC(2026, 5, 1, 12, 0, 0);
  sim = await startSimulator({ accounts: 30, now: () => t });
});
afterEach(async () => {
  await sim.close();
});

describe('already in the asked state', () => {
  it('deactivating an inactive account: 200, unchanged, updated_at and ETag kept, counted as noop', async () => {
    const id = simAccountId(2);
    const first = await post(sim, `/providers/${id}/deactivate`);
    expect(envelope(first).data?.updated_at).toBe('2026-06-01T12:00:00Z');
    const etag = (await get(sim, `/providers/${id}`)).headers.etag;
    t += 5 * MINUTE;
    const second = await post(sim, `/providers/${id}/deactivate`);
    expect(second.status).toBe(200);
    expect(envelope(second).data).toEqual(envelope(first).data);
    expect((await get(sim, `/providers/${id}`)).headers.etag).toBe(etag);
    expect(sim.stats().executions).toMatchObject({
      total: 2,
      noop: 1,
      byAccount: { [id]: { activate: 0, deactivate: 2 } },
    });
  });

  it('activating an active account: 200, unchanged (seed updated_at kept), noop', async () => {
    const id = simAccountId(3);
    const before = sim.account(id);
    const r = await post(sim, `/providers/${id}/activate`);
    expect(r.status).toBe(200);
    expect(envelope(r).data).toEqual(before);
    expect(sim.stats().executions).toMatchObject({ total: 1, noop: 1 });
  });

  it('activating a pending OAuth account again is a noop too; a real change bumps updated_at', async () => {
    const id = simAccountId(22);
    await post(sim, `/providers/${id}/deactivate`);
    t += MINUTE;
    const pending = await post(sim, `/providers/${id}/activate`);
    expect(envelope(pending).data).toMatchObject({
      status: 'pending',
      updated_at: '2026-06-01T12:01:00Z',
    });
    t += MINUTE;
    const again = await post(sim, `/providers/${id}/activate`);
    expect(envelope(again).data).toEqual(envelope(pending).data);
    expect(sim.stats().executions).toMatchObject({ total: 3, noop: 1 });
  });
});
