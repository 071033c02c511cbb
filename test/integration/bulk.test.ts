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
import { batchReport, getBatch, listBatches, startBulkRun } from '../../src/ops/bulk.js';
import { bulkKey, runBulkPass } from '../../src/producers/bulk/run.js';
import { simAccountId } from '../../src/sim/index.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

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
  return out.sort((a, b) => a.provider_id.localeCompare(b.provider_id));
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
    expect(report.map((r) => r.provider_id)).toEqual([...ids].sort());
    for (const r of report) {
      // The report matches the simulator, account by account.
      expect(r).toMatchObject({ outcome: 'succeeded', error_code: null, http_status: 200 });
      expect(r.status).toBe(p.sim.account(r.provider_id)?.status);
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
      { producer: p.producer, redis: p.redis, keys: p.keys },
      { source: { kind: 'file', path: csv }, batchId: 'csv' },
    );
    expect(fromCsv).toMatchObject({ enqueued: 2, invalid: 0 });
    const fromStream = await runBulkPass(
      { producer: p.producer, redis: p.redis, keys: p.keys },
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
      },
    );
    expect(fromStream).toMatchObject({ enqueued: 3, input: 'stdin' });
    const fromIds = await runBulkPass(
      { producer: p.producer, redis: p.redis, keys: p.keys },
      { source: { kind: 'ids', ids: [simAccountId(6), ` ${simAccountId(7)}`] }, batchId: 'ids' },
    );
    expect(fromIds).toMatchObject({ enqueued: 2 });
    expect((await rows(p, 'stream')).map((r) => r.provider_id)).toEqual([
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
    const requestsBefore = p.sim.stats().requests;
    const again = await startBulkRun(p.config, {
      source: { kind: 'ids', ids },
      batchId: 'resume-me',
    });
    expect(again.pass).toMatchObject({ enqueued: 0, resumed: 0, alreadyDone: 8 });
    await new Promise((r) => setTimeout(r, 300));
    expect(p.sim.stats().requests).toBe(requestsBefore);
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
      provider_id: 'dprov_missing',
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
});
