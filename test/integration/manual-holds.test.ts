/**
 * Manual actions on holds, against real Redis, the simulator and a real worker: `deactivate`
 * takes hold `manual` with what the API says the account is now; `activate` releases it, and
 * is not enqueued while another source (here the breaker) still holds the account off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IdempotencyKeyConflictError } from '../../src/errors.js';
import { enqueueActions } from '../../src/ops/enqueue-actions.js';
import { simAccountId } from '../../src/sim/index.js';
import { seenState } from '../../src/store/hold-record.js';
import { readHolds, takeHold } from '../../src/store/holds.js';
import { keysMatching } from '../support/context.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

const A = simAccountId(1);
const B = simAccountId(2);

function pipeline(): Pipeline {
  if (!p) throw new Error('no pipeline');
  return p;
}

/** Switch an account off at the simulator directly, as someone else would. */
async function offAtTheApi(id: string): Promise<void> {
  const res = await fetch(`${pipeline().sim.url}/providers/${id}/deactivate`, {
    method: 'POST',
    headers: { authorization: 'Bearer smx_root_sim_key' },
  });
  expect(res.status).toBe(200);
}

const calls = (id: string) =>
  pipeline().sim.stats().executions.byAccount[id] ?? { activate: 0, deactivate: 0 };

describe('manual actions and holds', () => {
  it('deactivate takes hold "manual" with the state the API reports as its before', async () => {
    p = await startPipeline({ sim: { accounts: 4 } });
    await offAtTheApi(B);
    const { reports, done, warnings } = await enqueueActions(p.config, {
      action: 'deactivate',
      accountIds: [A, B],
      reason: 'spam complaints',
      wait: true,
      waitTimeoutMs: 15_000,
    });
    expect(done).toBe(true);
    expect(warnings).toEqual([]);
    expect(reports.map((r) => [r.account_id, r.state, r.held_by])).toEqual([
      [A, 'succeeded', []],
      [B, 'succeeded', []],
    ]);
    const a = await readHolds(p.redis, p.keys, A);
    expect(a.before).toBe('active');
    expect(a.holds).toEqual([
      expect.objectContaining({
        id: 'manual',
        source: 'manual',
        ref: reports[0]?.idempotency_key,
        reason: 'spam complaints',
      }),
    ]);
    expect((await readHolds(p.redis, p.keys, B)).before).toBe('inactive');
    expect(p.sim.account(A)?.status).toBe('inactive');
  });

  it('without an API key the before is unknown, and the result says so', async () => {
    p = await startPipeline({ workers: 0 });
    const before = p.sim.stats().requests;
    const { reports, warnings } = await enqueueActions(
      { ...p.config, apiKey: undefined },
      { action: 'deactivate', accountIds: [A] },
    );
    expect(reports[0]?.enqueue).toBe('enqueued');
    expect(warnings.join(' ')).toMatch(/no API key.*unknown/);
    expect(p.sim.stats().requests).toBe(before); // nothing read
    const a = await readHolds(p.redis, p.keys, A);
    expect(a.before).toBe('unknown');
    expect(a.holds.map((h) => h.id)).toEqual(['manual']);
  });

  it('activate releases "manual" and activates; a refused key changes no hold', async () => {
    p = await startPipeline({ sim: { accounts: 4 } });
    await enqueueActions(p.config, {
      action: 'deactivate',
      accountIds: [A],
      key: 'off-a',
      wait: true,
      waitTimeoutMs: 15_000,
    });
    // A key bound to another intent: refused before the hold is touched.
    await expect(
      enqueueActions(p.config, { action: 'activate', accountIds: [A], key: 'off-a' }),
    ).rejects.toBeInstanceOf(IdempotencyKeyConflictError);
    expect((await readHolds(p.redis, p.keys, A)).holds.map((h) => h.id)).toEqual(['manual']);

    const { reports, done } = await enqueueActions(p.config, {
      action: 'activate',
      accountIds: [A],
      wait: true,
      waitTimeoutMs: 15_000,
    });
    expect(done).toBe(true);
    expect(reports[0]).toMatchObject({ enqueue: 'enqueued', state: 'succeeded', held_by: [] });
    expect((await readHolds(p.redis, p.keys, A)).holds).toEqual([]);
    expect(p.sim.account(A)?.status).toBe('active');
    expect(calls(A)).toEqual({ activate: 1, deactivate: 1 });
  });

  it('activate of an account the breaker also holds is not enqueued and names the hold', async () => {
    p = await startPipeline({ sim: { accounts: 4 } });
    await enqueueActions(p.config, {
      action: 'deactivate',
      accountIds: [A, B],
      wait: true,
      waitTimeoutMs: 15_000,
    });
    await takeHold(
      p.redis,
      p.keys,
      A,
      { id: 'breaker', source: 'breaker', ref: 't1' },
      seenState('active'),
    );
    const { reports, done } = await enqueueActions(p.config, {
      action: 'activate',
      accountIds: [A, B],
      key: undefined,
      wait: true,
      waitTimeoutMs: 15_000,
    });
    expect(done).toBe(true);
    const [a, b] = reports;
    expect(a).toMatchObject({
      account_id: A,
      enqueue: 'held',
      state: 'held',
      held_by: ['breaker'],
      idempotency_key: '',
      job_id: '',
    });
    expect(b).toMatchObject({ account_id: B, enqueue: 'enqueued', state: 'succeeded' });
    // A: its manual hold released, the breaker's kept, no activation asked or made.
    const holds = await readHolds(p.redis, p.keys, A);
    expect(holds.holds.map((h) => h.id)).toEqual(['breaker']);
    expect(holds.before).toBe('active');
    expect(p.sim.account(A)?.status).toBe('inactive');
    expect(calls(A).activate).toBe(0);
    expect((await p.events('action.succeeded')).filter((e) => e.action === 'activate')).toEqual([
      expect.objectContaining({ account_id: B }),
    ]);

    // Again, with no manual hold left: the breaker's still refuses it.
    const again = await enqueueActions(p.config, { action: 'activate', accountIds: [A] });
    expect(again.reports[0]).toMatchObject({ enqueue: 'held', held_by: ['breaker'] });
    // No activation was ever bound for A: B's is the only one.
    expect(await keysMatching(p.redis, `${p.config.prefix}:idem:activate-*`)).toHaveLength(1);
    expect(calls(A).activate).toBe(0);
  });
});
