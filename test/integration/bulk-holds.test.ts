/**
 * Bulk runs on holds and `batch undo`, against real Redis, the simulator and real workers: a
 * deactivate run's holds and their `before`, an activate run leaving held accounts out,
 * `batch cancel` releasing its holds, and undo switching back on exactly what it should.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StateConflictError } from '../../src/errors.js';
import { undoKey } from '../../src/ops/batch-activations.js';
import { cancelBatch } from '../../src/ops/batch-cancel.js';
import { undoBatch } from '../../src/ops/batch-undo.js';
import { getBatch, startBulkRun } from '../../src/ops/bulk.js';
import { budgetedLister } from '../../src/producers/bulk/accounts.js';
import { bulkHoldId, bulkKey, runBulkPass } from '../../src/producers/bulk/run.js';
import { createSendmuxClient } from '../../src/sendmux/client.js';
import { simAccountId, SIM_LOCKED_ID, SIM_SHARED_SES_ID } from '../../src/sim/index.js';
import { readBatchAccounts } from '../../src/store/batch-read.js';
import { seenState } from '../../src/store/hold-record.js';
import { readHolds, releaseHolds, takeHold } from '../../src/store/holds.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { waitUntilDrained } from '../support/quiet.js';

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

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

async function holdsOf(id: string) {
  const h = await readHolds(pipeline().redis, pipeline().keys, id);
  return { ids: h.holds.map((x) => x.id), before: h.before, holds: h.holds };
}

async function jobCount(): Promise<number> {
  const c = await pipeline().producer.queue.getJobCounts();
  return Object.values(c).reduce((a, b) => a + b, 0);
}

const A = simAccountId(1);
const B = simAccountId(2);
const C = simAccountId(3);
const D = simAccountId(4);

describe('bulk runs and holds', () => {
  it('a deactivate run takes hold bulk:<batch> on each account, its before read from the API', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 8 } });
    await offAtTheApi(B);
    const { pass } = await startBulkRun(p.config, {
      source: { kind: 'ids', ids: [A, B, SIM_SHARED_SES_ID, 'dprov_missing'] },
      batchId: 'held-run',
      reason: 'bounce storm',
    });
    expect(pass).toMatchObject({ enqueued: 3, skipped: 1 });
    const a = await holdsOf(A);
    expect(a.before).toBe('active');
    expect(a.holds).toEqual([
      expect.objectContaining({
        id: 'bulk:held-run',
        source: 'bulk',
        ref: 'held-run',
        reason: 'bounce storm',
      }),
    ]);
    expect(await holdsOf(B)).toMatchObject({ ids: ['bulk:held-run'], before: 'inactive' });
    // Not among the team's accounts: unknown. Left out: no hold.
    expect(await holdsOf('dprov_missing')).toMatchObject({
      ids: ['bulk:held-run'],
      before: 'unknown',
    });
    expect((await holdsOf(SIM_SHARED_SES_ID)).ids).toEqual([]);
  });

  it('many accounts: the before comes from one listing of the team; without the API, unknown', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 150 } });
    await offAtTheApi(C);
    const client = createSendmuxClient({ baseUrl: p.sim.url, apiKey: 'smx_root_sim_key' });
    try {
      const lister = budgetedLister({
        client,
        redis: p.redis,
        keys: p.keys,
        budget: { max: 1_000_000, duration: 1_000 },
      });
      const requests = p.sim.stats().requests;
      const listed = await runBulkPass(
        {
          producer: p.producer,
          redis: p.redis,
          keys: p.keys,
          outcomes: p.config,
          accounts: lister,
        },
        { source: { kind: 'ids', ids: [A, B, C] }, batchId: 'listed' },
      );
      expect(listed.enqueued).toBe(3);
      // 152 accounts: two pages, for every account of the run (and the shared-account check).
      expect(p.sim.stats().requests - requests).toBe(2);
      expect(await holdsOf(A)).toMatchObject({ ids: ['bulk:listed'], before: 'active' });
      expect(await holdsOf(C)).toMatchObject({ ids: ['bulk:listed'], before: 'inactive' });
    } finally {
      client.close();
    }
    // No API (a file with --include-shared, no key): holds with an unknown before.
    const blind = await runBulkPass(
      { producer: p.producer, redis: p.redis, keys: p.keys, outcomes: p.config },
      { source: { kind: 'ids', ids: [D] }, batchId: 'blind', includeShared: true },
    );
    expect(blind.enqueued).toBe(1);
    expect(await holdsOf(D)).toMatchObject({ ids: ['bulk:blind'], before: 'unknown' });
  });

  it('an activate run leaves out the accounts some source holds off, counted as skipped', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 8 } });
    await takeHold(
      p.redis,
      p.keys,
      A,
      { id: 'breaker', source: 'breaker', ref: 't1' },
      seenState('active'),
    );
    const { pass, batch } = await startBulkRun(p.config, {
      source: { kind: 'ids', ids: [A, B] },
      action: 'activate',
      batchId: 'on-again',
      chunkSize: 1,
    });
    expect(pass).toMatchObject({ enqueued: 1, skipped: 1, held: 1 });
    expect(pass.skippedIds).toEqual([`${A}: held by breaker`]);
    expect(batch).toMatchObject({ total: 1, skipped: 1 });
    const accounts = [];
    for await (const a of readBatchAccounts(p.redis, p.keys, 'on-again')) accounts.push(a);
    expect(accounts.map((a) => a.account_id)).toEqual([B]);
    expect(await jobCount()).toBe(1);
    // An activate run takes no hold.
    expect((await holdsOf(B)).ids).toEqual([]);
  });

  it('batch cancel releases the hold of every account it cancels', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 8 } });
    await startBulkRun(p.config, { source: { kind: 'ids', ids: [A, B] }, batchId: 'to-cancel' });
    expect((await holdsOf(A)).ids).toEqual(['bulk:to-cancel']);
    expect(await cancelBatch(p.config, 'to-cancel')).toMatchObject({ cancelled: 2 });
    expect((await holdsOf(A)).ids).toEqual([]);
    expect((await holdsOf(B)).ids).toEqual([]);
  });
});

describe('batch undo', () => {
  it('switches back on exactly what the run switched off and nothing else holds off', async () => {
    p = await startPipeline({ sim: { accounts: 8 } });
    await offAtTheApi(B); // B: off before the run
    const { batch } = await startBulkRun(p.config, {
      // The API refuses to switch off SIM_LOCKED_ID (active before: a failed deactivation is
      // not undone by an activation) and knows nothing of dprov_missing (404).
      source: { kind: 'ids', ids: [A, B, C, SIM_LOCKED_ID, 'dprov_missing'] },
      batchId: 'undo-me',
      wait: true,
      waitTimeoutMs: 15_000,
      pollMs: 50,
    });
    expect(batch).toMatchObject({ total: 5, succeeded: 3, failed: 2 });
    // C: the breaker trips on it while the run holds it.
    await takeHold(
      p.redis,
      p.keys,
      C,
      { id: 'breaker', source: 'breaker', ref: 't9' },
      seenState('active'),
    );
    const before = { A: calls(A), B: calls(B), C: calls(C) };

    const undone = await undoBatch(p.config, 'undo-me', {
      wait: true,
      waitTimeoutMs: 15_000,
      pollMs: 50,
    });
    expect(undone).toMatchObject({
      batch_id: 'undo-me',
      reactivated: 1,
      still_held: 1,
      was_inactive: 1,
      not_switched_off: 2,
      still_queued: 0,
      already_undone: 0,
      accounts_truncated: false,
      done: true,
      activations: { total: 1, succeeded: 1, failed: 0 },
    });
    const byId = new Map(undone.accounts.map((a) => [a.account_id, a]));
    expect(byId.get(A)).toMatchObject({
      result: 'reactivated',
      outcome: 'succeeded',
      before: 'active',
      held_by: [],
      idempotency_key: `${bulkKey('undo-me', A)}:undo`,
    });
    expect(byId.get(B)).toMatchObject({ result: 'was_inactive', before: 'inactive' });
    expect(byId.get(C)).toMatchObject({ result: 'still_held', held_by: ['breaker'] });
    for (const id of [SIM_LOCKED_ID, 'dprov_missing']) {
      expect(byId.get(id)).toMatchObject({ result: 'not_switched_off', outcome: 'failed' });
      expect((await holdsOf(id)).ids).toEqual([]);
    }
    expect(calls(SIM_LOCKED_ID).activate).toBe(0);

    // The simulator: A on again with one activation; B and C still off, never activated.
    expect(p.sim.account(A)?.status).toBe('active');
    expect(calls(A)).toEqual({ deactivate: before.A.deactivate, activate: 1 });
    expect(p.sim.account(B)?.status).toBe('inactive');
    expect(calls(B).activate).toBe(0);
    expect(p.sim.account(C)?.status).toBe('inactive');
    expect(calls(C).activate).toBe(0);
    // The run's holds are gone; the breaker's stays, with C's before.
    expect((await holdsOf(A)).ids).toEqual([]);
    expect((await holdsOf(B)).ids).toEqual([]);
    expect(await holdsOf(C)).toMatchObject({ ids: ['breaker'], before: 'active' });
    // The batch's record is the run's: the activation did not overwrite A's event.
    expect(await getBatch(p.config, 'undo-me')).toMatchObject({
      total: 5,
      succeeded: 3,
      failed: 2,
    });
    const events = new Map<string, string>();
    for await (const a of readBatchAccounts(p.redis, p.keys, 'undo-me')) {
      events.set(a.account_id, `${a.event?.type} ${a.event?.action}`);
    }
    expect(events.get(A)).toBe('action.succeeded deactivate');

    // Twice: nothing left to release, nothing enqueued.
    const jobs = await jobCount();
    const again = await undoBatch(p.config, 'undo-me');
    expect(again).toMatchObject({
      reactivated: 0,
      still_held: 0,
      was_inactive: 0,
      not_switched_off: 2,
      already_undone: 3,
    });
    await waitUntilDrained(pipeline().producer.queue); // anything enqueued would have run
    expect(await jobCount()).toBe(jobs);
    expect(calls(A).activate).toBe(1);
  });

  it('an undo killed between its release and its enqueue: the next undo adds the bound activation', async () => {
    p = await startPipeline({ sim: { accounts: 8 } });
    const { batch } = await startBulkRun(p.config, {
      source: { kind: 'ids', ids: [A] },
      batchId: 'killed-undo',
      wait: true,
      waitTimeoutMs: 15_000,
      pollMs: 50,
    });
    expect(batch).toMatchObject({ succeeded: 1 });
    // The undo's own step (release + bind), then the process dies: no job for the activation.
    const [r] = await releaseHolds(p.redis, p.keys, [A], bulkHoldId('killed-undo'), () => ({
      key: undoKey('killed-undo', A),
      source: 'bulk',
      mode: 'base',
    }));
    expect(r?.activation).toMatchObject({ state: 'new' });
    const again = await undoBatch(p.config, 'killed-undo', {
      wait: true,
      waitTimeoutMs: 15_000,
      pollMs: 50,
    });
    expect(again).toMatchObject({ already_undone: 1, done: true });
    expect(again.activations).toMatchObject({ total: 1, succeeded: 1 });
    expect(p.sim.account(A)?.status).toBe('active');
  });

  it('refuses an unfinished batch without --force (nothing changes) and an activate batch', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 8 } });
    await startBulkRun(p.config, { source: { kind: 'ids', ids: [A, B] }, batchId: 'unfinished' });
    const jobs = await jobCount();
    const err = await undoBatch(p.config, 'unfinished').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateConflictError);
    expect((err as Error).message).toMatch(/batch unfinished is not finished.*--force/);
    expect((await holdsOf(A)).ids).toEqual(['bulk:unfinished']);
    expect(await jobCount()).toBe(jobs);
    expect(await getBatch(p.config, 'unfinished')).toMatchObject({
      queued: 2,
      cancelled_at: null,
    });

    // --force: the queued intents are cancelled first, then undone (nothing was switched off).
    const forced = await undoBatch(p.config, 'unfinished', { force: true });
    expect(forced).toMatchObject({
      cancelled_first: 2,
      reactivated: 0,
      not_switched_off: 2,
      still_queued: 0,
    });
    expect(forced.accounts.map((a) => a.outcome)).toEqual(['cancelled', 'cancelled']);
    expect((await holdsOf(A)).ids).toEqual([]);

    await startBulkRun(p.config, {
      source: { kind: 'ids', ids: [A] },
      batchId: 'on-run',
      action: 'activate',
    });
    await expect(undoBatch(p.config, 'on-run', { force: true })).rejects.toThrow(
      /batch on-run is an activate run: only a deactivate run can be undone/,
    );
    await expect(undoBatch(p.config, 'nope')).rejects.toThrow(/batch "nope": no such batch/);
  });

  it('--force while a deactivation runs: it keeps its hold, and undo again once it ended switches it back on', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 8 } });
    p.sim.script(A, [{ kind: 'delay', ms: 1_500 }]);
    await startBulkRun(p.config, { source: { kind: 'ids', ids: [A, B] }, batchId: 'busy' });
    await p.addWorker({ concurrency: 1 });
    const deadline = Date.now() + 5_000;
    while ((await p.producer.queue.getActiveCount()) < 1) {
      if (Date.now() > deadline) throw new Error('the first job never became active');
      await new Promise((r) => setTimeout(r, 20));
    }
    const forced = await undoBatch(p.config, 'busy', { force: true });
    expect(forced).toMatchObject({ cancelled_first: 1, not_switched_off: 2, still_queued: 1 });
    expect(forced.accounts.find((a) => a.account_id === A)).toMatchObject({
      result: 'not_switched_off',
      outcome: 'queued',
    });
    expect((await holdsOf(A)).ids).toEqual(['bulk:busy']);
    expect((await holdsOf(B)).ids).toEqual([]);
    await p.waitFor([bulkKey('busy', A)]);
    expect(p.sim.account(A)?.status).toBe('inactive');
    const later = await undoBatch(p.config, 'busy', {
      wait: true,
      waitTimeoutMs: 15_000,
      pollMs: 50,
    });
    expect(later).toMatchObject({ reactivated: 1, not_switched_off: 1, done: true });
    expect(p.sim.account(A)?.status).toBe('active');
    expect((await holdsOf(A)).ids).toEqual([]);
  });
});
