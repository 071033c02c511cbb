/**
 * Bulk runs against real Redis, the simulator and a real worker: sources, invalid input,
 * repeats, resume, the batch record and the report.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, UsageError } from '../../src/errors.js';
import { cancelBatch } from '../../src/ops/batch-cancel.js';
import {
  batchReport,
  dryRunBulk,
  getBatch,
  listBatches,
  startBulkRun,
} from '../../src/ops/bulk.js';
import { bulkKey, runBulkPass } from '../../src/producers/bulk/run.js';
import { simAccountId } from '../../src/sim/index.js';
import { SIM_LOCKED_ID, SIM_SHARED_SES_ID } from '../../src/sim/seed.js';
import { addToBatch, openBatch } from '../../src/store/batch-record.js';
import { pauseQueue } from '../../src/store/pause-queue.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { manualIntent, startPipeline, type Pipeline } from '../support/pipeline.js';
import { waitUntilDrained } from '../support/quiet.js';

sharedFixtures();
let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

async function tempFile(name: string, text: string): Promise<string> {
  const path = join(tmpdir(), `sdx-bulk-test-${process.pid}-${Date.now()}-${name}`);
  await writeFile(path, text);
  return path;
}

async function rows(pipeline: Pipeline, batchId: string) {
  const out = [];
  for await (const row of batchReport(pipeline.config, batchId)) out.push(row);
  return out.sort((a, b) => a.account_id.localeCompare(b.account_id));
}

async function jobCount(pipeline: Pipeline): Promise<number> {
  const c = await pipeline.producer.queue.getJobCounts();
  return Object.values(c).reduce((a, b) => a + b, 0);
}

describe('bulk runs', () => {
  it('deactivates every account of a file (ids, comments, blank lines), records the batch and reports each account', async () => {
    p = await startPipeline({ sim: { accounts: 12 } });
    const ids = Array.from({ length: 10 }, (_, i) => simAccountId(i + 1));
    const path = await tempFile(
      'plain.txt',
      `# accounts to switch off\n${ids.slice(0, 5).join('\n')}\n\n  ${ids.slice(5).join('\n')}\r\n`,
    );
    const { pass, batch, done } = await startBulkRun(p.config, {
      source: { kind: 'file', path },
      batchId: 'file-run',
      wait: true,
      waitTimeoutMs: 20_000,
      pollMs: 50,
    });
    expect(done).toBe(true);
    expect(pass).toMatchObject({ batchId: 'file-run', pass: 1, enqueued: 10, invalid: 0 });
    expect(batch).toMatchObject({
      batch_id: 'file-run',
      action: 'deactivate',
      total: 10,
      succeeded: 10,
      failed: 0,
      queued: 0,
      enqueue_done: true,
    });
    expect(batch.finished_at).not.toBeNull();
    for (const id of ids) {
      expect(p.sim.account(id)?.status).toBe('inactive');
      expect(p.sim.stats().executions.byKey[bulkKey('file-run', id)]).toBe(1);
    }
    const report = await rows(p, 'file-run');
    expect(report.map((r) => r.account_id)).toEqual([...ids].sort());
    for (const r of report) {
      // The report matches the simulator, account by account.
      expect(r).toMatchObject({ outcome: 'succeeded', error_code: null, http_status: 200 });
      expect(r.status).toBe(p.sim.account(r.account_id)?.status);
      expect(r.request_id).toMatch(/^req_/);
      expect(r.attempts).toBe(1);
    }
    const events = await p.events('action.succeeded');
    expect(events.filter((e) => e.source === 'bulk' && e.source_ref === 'file-run')).toHaveLength(
      10,
    );
  });

  it('reads CSV with an id column, and stdin-like streams, and --ids', async () => {
    p = await startPipeline({ sim: { accounts: 12 } });
    const csv = await tempFile(
      'accounts.csv',
      `name,"id",note\nfirst,${simAccountId(1)},"a, b"\nsecond,"${simAccountId(2)}",x\n`,
    );
    const fromCsv = await runBulkPass(
      { producer: p.producer, redis: p.redis, keys: p.keys, outcomes: p.config },
      { source: { kind: 'file', path: csv }, batchId: 'csv', includeShared: true },
    );
    expect(fromCsv).toMatchObject({ enqueued: 2, invalid: 0 });
    const fromStream = await runBulkPass(
      { producer: p.producer, redis: p.redis, keys: p.keys, outcomes: p.config },
      {
        source: {
          kind: 'stream',
          input: Readable.from([
            `${simAccountId(3)}\n${simAccountId(4)}`,
            `\n${simAccountId(5)}\n`,
          ]),
          name: 'stdin',
        },
        batchId: 'stream',
        includeShared: true,
      },
    );
    expect(fromStream).toMatchObject({ enqueued: 3, input: 'stdin' });
    const fromIds = await runBulkPass(
      { producer: p.producer, redis: p.redis, keys: p.keys, outcomes: p.config },
      {
        source: { kind: 'ids', ids: [simAccountId(6), ` ${simAccountId(7)}`] },
        batchId: 'ids',
        includeShared: true,
      },
    );
    expect(fromIds).toMatchObject({ enqueued: 2 });
    expect((await rows(p, 'stream')).map((r) => r.account_id)).toEqual([
      simAccountId(3),
      simAccountId(4),
      simAccountId(5),
    ]);
  });

  it('refuses input with an invalid line: nothing enqueued, the lines named with their numbers', async () => {
    p = await startPipeline({ workers: 0 });
    const path = await tempFile(
      'bad.txt',
      `${simAccountId(1)}\nnot-an-id\n# fine\n${simAccountId(2)}\ndprov_has space\n`,
    );
    const err = await startBulkRun(p.config, { source: { kind: 'file', path } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidInputError);
    const message = (err as Error).message;
    expect(message).toContain('2 invalid line(s)');
    expect(message).toContain('line 2: "not-an-id" must be a sending account id');
    expect(message).toContain('line 5: "dprov_has space"');
    expect(await jobCount(p)).toBe(0);
    expect(await listBatches(p.config)).toEqual([]);
    // --skip-invalid enqueues the valid ones and counts the rest.
    const { pass, batch } = await startBulkRun(p.config, {
      source: { kind: 'file', path },
      skipInvalid: true,
    });
    expect(pass).toMatchObject({ enqueued: 2, invalid: 2 });
    expect(pass.problems).toHaveLength(2);
    expect(batch).toMatchObject({ total: 2, invalid: 2, queued: 2 });
    expect(await jobCount(p)).toBe(2);
  });

  it('a CSV without an id column, an empty input and a bad batch id are usage errors', async () => {
    p = await startPipeline({ workers: 0 });
    const csv = await tempFile('noid.csv', 'name,email\na,b\n');
    await expect(startBulkRun(p.config, { source: { kind: 'file', path: csv } })).rejects.toThrow(
      /no "id" column \(columns: name, email\)/,
    );
    const empty = await tempFile('empty.txt', '# nothing\n\n');
    await expect(startBulkRun(p.config, { source: { kind: 'file', path: empty } })).rejects.toThrow(
      /no account ids/,
    );
    await expect(
      startBulkRun(p.config, { source: { kind: 'file', path: '/nonexistent/ids.txt' } }),
    ).rejects.toThrow(/--file \/nonexistent\/ids.txt: cannot read it \(ENOENT\)/);
    await expect(
      startBulkRun(p.config, { source: { kind: 'ids', ids: [simAccountId(1)] }, batchId: 'a:b' }),
    ).rejects.toBeInstanceOf(UsageError);
    expect(await jobCount(p)).toBe(0);
  });

  it('drops repeated ids and counts them', async () => {
    p = await startPipeline({ workers: 0 });
    const ids = [simAccountId(1), simAccountId(2), simAccountId(1), simAccountId(1)];
    const { pass, batch } = await startBulkRun(p.config, {
      source: { kind: 'ids', ids },
      chunkSize: 2, // the repeats span chunks
    });
    expect(pass).toMatchObject({ enqueued: 2, duplicates: 2, read: 4 });
    expect(batch).toMatchObject({ total: 2, duplicates: 2 });
    expect(await jobCount(p)).toBe(2);
  });

  it('resumes: the same batch again enqueues nothing twice and never calls the API twice for one account', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 12 } });
    const ids = Array.from({ length: 8 }, (_, i) => simAccountId(i + 1));
    // The first pass stops after half of the input (a CLI killed mid-enqueue).
    const half = await startBulkRun(p.config, {
      source: { kind: 'ids', ids: ids.slice(0, 4) },
      batchId: 'resume-me',
    });
    expect(half.batch).toMatchObject({ total: 4, passes: 1 });
    await p.addWorker();
    // Half of the first part finishes before the resume.
    const resumed = await startBulkRun(p.config, {
      source: { kind: 'ids', ids },
      batchId: 'resume-me',
      wait: true,
      waitTimeoutMs: 20_000,
      pollMs: 50,
    });
    expect(resumed.done).toBe(true);
    expect(resumed.pass.pass).toBe(2);
    expect(resumed.pass.enqueued).toBe(4);
    expect(resumed.pass.resumed + resumed.pass.alreadyDone).toBe(4);
    expect(resumed.batch).toMatchObject({ total: 8, succeeded: 8, passes: 2 });
    // A third pass after the end: everything is done, nothing is enqueued or called.
    const executionsBefore = p.sim.stats().executions.total;
    const again = await startBulkRun(p.config, {
      source: { kind: 'ids', ids },
      batchId: 'resume-me',
    });
    expect(again.pass).toMatchObject({ enqueued: 0, resumed: 0, alreadyDone: 8 });
    await waitUntilDrained(p.producer.queue); // anything it enqueued would have run
    expect(p.sim.stats().executions.total).toBe(executionsBefore);
    for (const id of ids) {
      expect(p.sim.stats().executions.byKey[bulkKey('resume-me', id)]).toBe(1);
      expect(p.sim.stats().executions.byAccount[id]?.deactivate).toBe(1);
    }
    expect(again.batch.finished_at).not.toBeNull();
  });

  it('refuses to resume a batch with the other action', async () => {
    p = await startPipeline({ workers: 0 });
    await startBulkRun(p.config, {
      source: { kind: 'ids', ids: [simAccountId(1)] },
      batchId: 'b1',
    });
    await expect(
      startBulkRun(p.config, {
        source: { kind: 'ids', ids: [simAccountId(2)] },
        batchId: 'b1',
        action: 'activate',
      }),
    ).rejects.toThrow('batch b1 is a deactivate run; it cannot activate');
    expect(await getBatch(p.config, 'b1')).toMatchObject({ total: 1, passes: 1 });
  });

  it('reports failures with their error code and HTTP status, and lists batches newest first', async () => {
    p = await startPipeline({ sim: { accounts: 5 } });
    const { batch } = await startBulkRun(p.config, {
      source: { kind: 'ids', ids: [simAccountId(1), 'dprov_missing'] },
      batchId: 'with-failure',
      wait: true,
      waitTimeoutMs: 20_000,
      pollMs: 50,
    });
    expect(batch).toMatchObject({ total: 2, succeeded: 1, failed: 1, queued: 0 });
    const report = await rows(p, 'with-failure');
    expect(report[0]).toMatchObject({
      account_id: 'dprov_missing',
      outcome: 'failed',
      error_code: 'not_found',
      http_status: 404,
      status: null,
    });
    await startBulkRun(p.config, {
      source: { kind: 'ids', ids: [simAccountId(2)] },
      batchId: 'later',
    });
    expect((await listBatches(p.config)).map((b) => b.batch_id)).toEqual(['later', 'with-failure']);
    expect(await getBatch(p.config, 'nope')).toBeUndefined();
  });

  it('leaves the shared account out unless --include-shared, and counts it as skipped', async () => {
    p = await startPipeline({ workers: 0 });
    const ids = [simAccountId(1), SIM_SHARED_SES_ID, simAccountId(2)];
    const guarded = await startBulkRun(p.config, { source: { kind: 'ids', ids }, batchId: 'g1' });
    expect(guarded.pass).toMatchObject({ enqueued: 2, skipped: 1 });
    expect(guarded.pass.skippedIds).toEqual([`${SIM_SHARED_SES_ID}: the shared account`]);
    expect(guarded.batch).toMatchObject({ total: 2, skipped: 1 });
    expect((await rows(p, 'g1')).map((r) => r.account_id)).not.toContain(SIM_SHARED_SES_ID);
    const included = await startBulkRun(p.config, {
      source: { kind: 'ids', ids },
      batchId: 'g2',
      includeShared: true,
    });
    expect(included.pass).toMatchObject({ enqueued: 3, skipped: 0 });
    // Without an API key the guard cannot look: it says so, and nothing is enqueued.
    const before = await jobCount(p);
    await expect(
      startBulkRun(
        { ...p.config, apiKey: undefined },
        { source: { kind: 'ids', ids }, batchId: 'g3' },
      ),
    ).rejects.toThrow(/needs the API \(SENDMUX_API_KEY\).*--include-shared/);
    expect(await jobCount(p)).toBe(before);
    expect(await getBatch(p.config, 'g3')).toBeUndefined();
  });

  it('--filter lists the matching accounts, without the shared one, and enqueues each', async () => {
    p = await startPipeline({ sim: { accounts: 14 } });
    const all = [
      ...Array.from({ length: 14 }, (_, i) => simAccountId(i + 1)),
      SIM_LOCKED_ID,
      SIM_SHARED_SES_ID,
    ].map((id) => p?.sim.account(id));
    const matching = all.filter((a) => a?.type === 'smtp' && a.status === 'active');
    const { pass, batch, done } = await startBulkRun(p.config, {
      source: { kind: 'filter', filter: { status: 'active', type: 'smtp', limit: 3 } },
      batchId: 'filtered',
      wait: true,
      waitTimeoutMs: 20_000,
      pollMs: 50,
    });
    expect(done).toBe(true);
    expect(pass.enqueued).toBe(matching.length);
    expect(pass.enqueued).toBeGreaterThan(3); // more than one page
    const report = await rows(p, 'filtered');
    expect(report.map((r) => r.account_id).sort()).toEqual(matching.map((a) => a?.id).sort());
    // What the API allowed is now off; the one it does not allow failed, recorded as such.
    for (const r of report) {
      const allowed = all.find((a) => a?.id === r.account_id)?.allowed_actions.deactivate;
      expect(r.outcome).toBe(allowed ? 'succeeded' : 'failed');
    }
    expect(batch.succeeded + batch.failed).toBe(matching.length);
    // With type=amazon_ses the listing has the shared account: it is left out.
    const ses = await startBulkRun(p.config, {
      source: { kind: 'filter', filter: { type: 'amazon_ses' } },
      batchId: 'ses',
    });
    expect(ses.pass).toMatchObject({ enqueued: 0, skipped: 1 });
    expect(ses.pass.skippedIds).toEqual([`${SIM_SHARED_SES_ID}: the shared account`]);
    expect(ses.batch).toMatchObject({ total: 0, skipped: 1 });
    expect(ses.batch.finished_at).not.toBeNull(); // nothing to wait for
  });

  it("the API reads spend the workers' rate budget: a paused budget holds them too", async () => {
    p = await startPipeline({ workers: 0 });
    await pauseQueue(p.redis, p.keys, 1_500);
    const started = Date.now();
    const before = p.sim.stats().requests;
    const report = await dryRunBulk(p.config, {
      source: { kind: 'filter', filter: { status: 'active' } },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(report.wouldEnqueue).toBeGreaterThan(0);
    expect(p.sim.stats().requests - before).toBeGreaterThan(0);
    // Each page took one call of the budget, counted where the workers count theirs.
    expect(Number(await p.redis.get(p.keys.limiter))).toBeGreaterThanOrEqual(1);
  });

  it('a dry run says what would happen, account by account, and changes nothing', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 6 } });
    // One account already inactive (through the API itself, beforehand).
    await startBulkRun(p.config, {
      source: { kind: 'ids', ids: [simAccountId(3)] },
      batchId: 'pre',
    });
    await p.addWorker();
    await p.waitFor(['bulk:pre:' + simAccountId(3)]);
    await p.workers[0]?.close(2_000);
    p.workers.length = 0;
    const mutationsBefore = p.sim.stats().executions.total;
    const jobsBefore = await jobCount(p);
    const report = await dryRunBulk(p.config, {
      source: {
        kind: 'ids',
        ids: [
          simAccountId(1),
          simAccountId(2),
          simAccountId(3),
          SIM_LOCKED_ID,
          SIM_SHARED_SES_ID,
          'dprov_nobody',
          simAccountId(1),
          'bad id',
        ],
      },
      batchId: 'dry',
    });
    expect(report).toMatchObject({
      batchId: 'dry',
      wouldEnqueue: 2,
      wouldEnqueueIds: [simAccountId(1), simAccountId(2)],
      already: [simAccountId(3)],
      notAllowed: [SIM_LOCKED_ID],
      shared: [SIM_SHARED_SES_ID],
      unknown: ['dprov_nobody'],
      duplicates: 1,
      invalid: 1,
    });
    expect(report.problems[0]).toContain('item 8: "bad id"');
    expect(p.sim.stats().executions.total).toBe(mutationsBefore);
    expect(await jobCount(p)).toBe(jobsBefore);
    expect(await getBatch(p.config, 'dry')).toBeUndefined();
  });

  it('cancel removes the jobs not started (one action.cancelled each, never a call); running ones finish', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 8 } });
    const ids = Array.from({ length: 6 }, (_, i) => simAccountId(i + 1));
    p.sim.script(ids[0] ?? '', [{ kind: 'delay', ms: 1_500 }]);
    p.sim.script(ids[1] ?? '', [{ kind: 'delay', ms: 1_500 }]);
    await startBulkRun(p.config, { source: { kind: 'ids', ids }, batchId: 'to-cancel' });
    await p.addWorker({ concurrency: 2 });
    // The first two are running (their calls take 1.5 s); the other four wait for a slot.
    const deadline = Date.now() + 5_000;
    while ((await p.producer.queue.getActiveCount()) < 2) {
      if (Date.now() > deadline) throw new Error('the first two jobs never became active');
      await new Promise((r) => setTimeout(r, 20));
    }
    const result = await cancelBatch(p.config, 'to-cancel');
    expect(result).toEqual({ batch_id: 'to-cancel', cancelled: 4, running: 2, already_done: 0 });
    const { batch, done } = await startBulkRun(p.config, {
      source: { kind: 'ids', ids },
      batchId: 'to-cancel',
      wait: true,
      waitTimeoutMs: 10_000,
      pollMs: 50,
    });
    expect(done).toBe(true);
    expect(batch).toMatchObject({ total: 6, succeeded: 2, cancelled: 4, queued: 0 });
    expect(batch.cancelled_at).not.toBeNull();
    const report = await rows(p, 'to-cancel');
    expect(report.filter((r) => r.outcome === 'cancelled').map((r) => r.account_id)).toEqual(
      ids.slice(2),
    );
    for (const id of ids.slice(2)) {
      expect(p.sim.stats().executions.byAccount[id]).toBeUndefined();
      expect(p.sim.account(id)?.status).toBe('active');
    }
    const cancelled = await p.events('action.cancelled');
    expect(cancelled.map((e) => e.account_id).sort()).toEqual(ids.slice(2));
    expect(await p.producer.queue.getWaitingCount()).toBe(0);
    // Cancelling again finds nothing left to cancel.
    expect(await cancelBatch(p.config, 'to-cancel')).toMatchObject({
      cancelled: 0,
      running: 0,
      already_done: 6,
    });
  });

  it('cancel of accounts a killed pass added but never bound: cancelled once, and a resume runs none of them', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 6 } });
    const ids = Array.from({ length: 4 }, (_, i) => simAccountId(i + 1));
    // A pass bound the first two, then was killed after adding the last two to the batch.
    await startBulkRun(p.config, {
      source: { kind: 'ids', ids: ids.slice(0, 2) },
      batchId: 'half',
    });
    const opened = await openBatch(p.redis, p.keys, {
      id: 'half',
      action: 'deactivate',
      source: 'test',
      reason: '',
    });
    if (!opened.ok) throw new Error('openBatch refused');
    expect(await addToBatch(p.redis, p.keys, 'half', opened.pass, ids.slice(2))).toEqual([
      'new',
      'new',
    ]);
    expect(await cancelBatch(p.config, 'half')).toEqual({
      batch_id: 'half',
      cancelled: 4,
      running: 0,
      already_done: 0,
    });
    // Their keys are bound to `cancelled`: a resume finds them terminal and enqueues nothing.
    const resumed = await startBulkRun(p.config, { source: { kind: 'ids', ids }, batchId: 'half' });
    expect(resumed.pass).toMatchObject({ enqueued: 0, alreadyDone: 4 });
    const claimed = await p.producer.enqueueMany(
      ids.slice(2).map((id) => ({
        action: 'deactivate' as const,
        accountId: id,
        idempotencyKey: bulkKey('half', id),
        source: 'bulk' as const,
        sourceRef: 'half',
        reason: '',
      })),
    );
    expect(claimed.map((c) => [c.status, c.state])).toEqual([
      ['duplicate', 'cancelled'],
      ['duplicate', 'cancelled'],
    ]);
    expect(await jobCount(p)).toBe(0);
    await p.addWorker();
    // A marker on another account, enqueued after them: once it is done and the queue is
    // drained, the worker has run everything it had; only the marker was called.
    await p.producer.enqueue(manualIntent(simAccountId(5), 'marker'));
    await p.waitFor(['marker']);
    await waitUntilDrained(p.producer.queue);
    expect(p.sim.stats().executions.total).toBe(1);
    expect(Object.keys(p.sim.stats().executions.byAccount)).toEqual([simAccountId(5)]);
    const batch = await getBatch(p.config, 'half');
    expect(batch).toMatchObject({ total: 4, cancelled: 4, queued: 0 });
    expect(batch?.finished_at).not.toBeNull();
    const cancelled = await p.events('action.cancelled');
    expect(cancelled.map((e) => e.account_id).sort()).toEqual(ids);
  });
});
