/**
 * A bulk run's record tells its whole life (issue 20 §1), against real Redis, the simulator and
 * real workers: the undo in the record (state, times, who, per-account counts, the activations'
 * outcomes) through a second undo and a killed one; the report's rows with each account's state
 * now, in account-id order; a no-op pass that keeps `finished_at`; `batch cancel`'s actor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionEvent } from '../../src/model.js';
import { enqueueBound, undoKey } from '../../src/ops/batch-activations.js';
import { cancelBatch } from '../../src/ops/batch-cancel.js';
import { undoBatch } from '../../src/ops/batch-undo.js';
import { batchReport, batchReportLines, getBatch, startBulkRun } from '../../src/ops/bulk.js';
import { bulkHoldId } from '../../src/producers/bulk/run.js';
import { simAccountId } from '../../src/sim/index.js';
import { beginUndo } from '../../src/store/batch-undo-record.js';
import { readRecentEvents } from '../../src/store/events.js';
import { seenState } from '../../src/store/hold-record.js';
import { releaseHolds, takeHold } from '../../src/store/holds.js';
import { sweepBatches } from '../../src/store/retention.js';
import { waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

sharedFixtures();

let p: Pipeline | undefined;
function pipeline(): Pipeline {
  if (!p) throw new Error('no pipeline');
  return p;
}
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

const ids = [7, 3, 12, 5, 9].map((n) => simAccountId(n));
const [A, B, C] = ids as [string, string, string];

async function finishedRun(pipeline: Pipeline, batchId: string, accounts = ids) {
  const { batch } = await startBulkRun(pipeline.config, {
    source: { kind: 'ids', ids: accounts },
    batchId,
    wait: true,
    waitTimeoutMs: 15_000,
    pollMs: 50,
  });
  expect(batch).toMatchObject({
    succeeded: accounts.length,
    finished_at: expect.any(String) as string,
  });
  return batch;
}

async function reportText(pipeline: Pipeline, batchId: string, format: 'csv' | 'json') {
  let out = '';
  for await (const line of batchReportLines(pipeline.config, batchId, format)) out += line;
  return out;
}

describe('the undo in the batch record', () => {
  it('state, who, when and counts; a second undo adds a run and keeps the first one’s figures', async () => {
    p = await startPipeline({ sim: { accounts: 20 } });
    await finishedRun(p, 'life');
    // The breaker holds C too: undo lets go of the run's hold, C stays off.
    await takeHold(
      p.redis,
      p.keys,
      C,
      { id: 'breaker', source: 'breaker', ref: 't' },
      seenState('active'),
    );
    expect((await getBatch(p.config, 'life'))?.undo).toBeNull();

    const first = await undoBatch(p.config, 'life', {
      actor: 'alice',
      wait: true,
      waitTimeoutMs: 15_000,
      pollMs: 50,
    });
    expect(first).toMatchObject({ reactivated: 4, still_held: 1, done: true });
    const after = await waitFor(async () => {
      const b = await getBatch(pipeline().config, 'life');
      return b?.undo?.state === 'done' ? b : undefined;
    });
    expect(after.undo).toMatchObject({
      state: 'done',
      by: 'alice',
      runs: 1,
      last_run_by: 'alice',
      reactivated: 4,
      still_held: 1,
      was_inactive: 0,
      not_switched_off: 0,
      already_undone: 0,
      activations: { total: 4, succeeded: 4, failed: 0, superseded: 0, cancelled: 0, queued: 0 },
    });
    // The activations carry who asked for the undo.
    const activations = (
      await readRecentEvents(p.redis, p.keys, { type: 'action.succeeded', limit: 100 })
    ).filter(
      (e): e is ActionEvent =>
        e.type === 'action.succeeded' && e.action === 'activate' && e.source_ref === 'life',
    );
    expect(activations).toHaveLength(4);
    expect(activations.map((e) => e.actor)).toEqual(['alice', 'alice', 'alice', 'alice']);
    const undo = after.undo;
    if (!undo) throw new Error('no undo');
    expect(Date.parse(undo.finished_at ?? '')).toBeGreaterThanOrEqual(Date.parse(undo.started_at));
    // The run's own figures are as they were.
    expect(after).toMatchObject({
      total: 5,
      succeeded: 5,
      finished_at: expect.any(String) as string,
    });

    const second = await undoBatch(p.config, 'life', { actor: 'bob' });
    expect(second).toMatchObject({ reactivated: 0, already_undone: 5 });
    const again = await getBatch(p.config, 'life');
    expect(again?.undo).toEqual({
      ...undo,
      runs: 2,
      last_run_by: 'bob',
      last_run_at: expect.any(String) as string,
    });
    expect(Date.parse(again?.undo?.last_run_at ?? '')).toBeGreaterThanOrEqual(
      Date.parse(undo.last_run_at),
    );
  });

  it('running while its activations wait for a worker, done once they have their outcome', async () => {
    p = await startPipeline({ sim: { accounts: 20 } });
    await finishedRun(p, 'slow-undo', [A, B]);
    await Promise.all(p.workers.map((w) => w.close(2_000)));
    p.workers.length = 0;
    await undoBatch(p.config, 'slow-undo', { actor: 'carol' });
    expect((await getBatch(p.config, 'slow-undo'))?.undo).toMatchObject({
      state: 'running',
      finished_at: null,
      by: 'carol',
      reactivated: 2,
      activations: { total: 2, succeeded: 0, queued: 2 },
    });
    // The retention sweep keeps a finished batch while its undo runs (a cutoff in the future).
    const later = Date.now() + 60_000;
    expect(await sweepBatches(p.redis, p.keys, later)).toBe(0);
    await p.addWorker();
    const done = await waitFor(async () => {
      const u = (await getBatch(pipeline().config, 'slow-undo'))?.undo;
      return u?.state === 'done' ? u : undefined;
    });
    expect(done).toMatchObject({
      finished_at: expect.any(String) as string,
      activations: { succeeded: 2 },
    });
    expect(await sweepBatches(p.redis, p.keys, later)).toBe(1);
    expect(await p.redis.exists(p.keys.batch('slow-undo'), p.keys.batchUndo('slow-undo'))).toBe(0);
  });

  it('an undo killed after its release bound and enqueued an activation: the outcome counts it, the next undo finishes the record', async () => {
    p = await startPipeline({ sim: { accounts: 20 } });
    await finishedRun(p, 'killed', [A, B]);
    // What the killed undo did: started, released A's hold (binding its activation), added the
    // job; then it died before marking A's result or going through B.
    await beginUndo(p.redis, p.keys, 'killed', 'dave');
    await releaseHolds(p.redis, p.keys, [A], bulkHoldId('killed'), () => ({
      key: undoKey('killed', A),
      source: 'bulk',
      mode: 'base',
    }));
    await enqueueBound(
      { producer: p.producer, redis: p.redis, keys: p.keys },
      [A],
      (id) => undoKey('killed', id),
      'killed',
      'undo',
    );
    await p.waitFor([undoKey('killed', A)]);
    expect((await getBatch(p.config, 'killed'))?.undo).toMatchObject({
      state: 'running',
      reactivated: 1,
      activations: { total: 1, succeeded: 1, queued: 0 },
    });
    await undoBatch(p.config, 'killed', {
      actor: 'erin',
      wait: true,
      waitTimeoutMs: 15_000,
      pollMs: 50,
    });
    const u = await waitFor(async () => {
      const undo = (await getBatch(pipeline().config, 'killed'))?.undo;
      return undo?.state === 'done' ? undo : undefined;
    });
    expect(u).toMatchObject({
      by: 'dave',
      last_run_by: 'erin',
      runs: 2,
      reactivated: 2,
      already_undone: 0,
      activations: { total: 2, succeeded: 2, queued: 0 },
    });
  });
});

describe("the report: each account's state now", () => {
  it('rows by account id, with the status now, the holds and the undo; two reports are identical', async () => {
    p = await startPipeline({ sim: { accounts: 20 } });
    await finishedRun(p, 'rep');
    const before = await reportText(p, 'rep', 'json');
    const rows0 = before
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows0.map((r) => r.account_id)).toEqual([...ids].sort());
    expect(rows0[0]).toMatchObject({
      outcome: 'succeeded',
      status: 'inactive',
      status_now: 'inactive',
      held_by: ['bulk:rep'],
      undo: null,
      undo_activation: null,
    });

    await takeHold(
      p.redis,
      p.keys,
      C,
      { id: 'breaker', source: 'breaker', ref: 't' },
      seenState('active'),
    );
    await undoBatch(p.config, 'rep', {
      actor: 'alice',
      wait: true,
      waitTimeoutMs: 15_000,
      pollMs: 50,
    });
    const rows: Record<string, unknown>[] = [];
    for await (const row of batchReport(p.config, 'rep')) rows.push({ ...row });
    expect(rows.map((r) => r.account_id)).toEqual([...ids].sort());
    for (const row of rows) {
      expect(row).toMatchObject(
        row.account_id === C
          ? {
              status: 'inactive',
              status_now: 'inactive',
              held_by: ['breaker'],
              undo: 'still_held',
              undo_activation: null,
            }
          : {
              status: 'inactive',
              status_now: 'active',
              held_by: [],
              undo: 'reactivated',
              undo_activation: 'succeeded',
            },
      );
    }
    const csv = await reportText(p, 'rep', 'csv');
    expect(csv.split('\n')[0]).toBe(
      'account_id,outcome,status,error_code,http_status,request_id,attempts,at,status_now,held_by,undo,undo_activation',
    );
    expect(csv).toContain(`${C},succeeded,inactive,`);
    expect(csv).toMatch(new RegExp(`^${C},.*,inactive,breaker,still_held,$`, 'm'));
    expect(await reportText(p, 'rep', 'csv')).toBe(csv);
    expect(await reportText(p, 'rep', 'json')).toBe(await reportText(p, 'rep', 'json'));
  });
});

describe('history', () => {
  it('a no-op pass (every account has its outcome) keeps finished_at and the first pass’s figures', async () => {
    p = await startPipeline({ sim: { accounts: 20 } });
    const { batch: first } = await startBulkRun(p.config, {
      source: { kind: 'ids', ids: [A, B, A, 'dprov_bad id'] },
      batchId: 'noop',
      skipInvalid: true,
      wait: true,
      waitTimeoutMs: 15_000,
      pollMs: 50,
    });
    expect(first).toMatchObject({ total: 2, succeeded: 2, duplicates: 1, invalid: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const { pass, batch } = await startBulkRun(p.config, {
      source: { kind: 'ids', ids: [A, B] },
      batchId: 'noop',
      wait: true,
      waitTimeoutMs: 15_000,
      pollMs: 50,
    });
    expect(pass).toMatchObject({ pass: 2, enqueued: 0, alreadyDone: 2 });
    expect(batch).toMatchObject({
      passes: 2,
      finished_at: first.finished_at,
      total: 2,
      succeeded: 2,
      duplicates: 1,
      invalid: 1,
      enqueue_done: true,
    });
    // A pass that adds an account is new work: the batch is open again until it ends.
    const { batch: third } = await startBulkRun(p.config, {
      source: { kind: 'ids', ids: [A, B, C] },
      batchId: 'noop',
    });
    expect(third).toMatchObject({ total: 3 });
    expect(third.finished_at === null || third.finished_at !== first.finished_at).toBe(true);
  });

  it('batch cancel records who cancelled, and when (the first cancel)', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 20 } });
    await startBulkRun(p.config, { source: { kind: 'ids', ids: [A, B] }, batchId: 'stop' });
    await cancelBatch(p.config, 'stop', 'frank');
    const b = await getBatch(p.config, 'stop');
    expect(b).toMatchObject({ cancelled: 2, cancelled_by: 'frank', created_by: null });
    expect(b?.cancelled_at).toMatch(/^20\d\d-/);
    await cancelBatch(p.config, 'stop', 'gina');
    expect(await getBatch(p.config, 'stop')).toMatchObject({
      cancelled_by: 'frank',
      cancelled_at: b?.cancelled_at,
    });
  });
});
