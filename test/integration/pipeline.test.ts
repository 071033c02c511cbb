/**
 * The whole pipeline against real Redis and the simulator over HTTP: producer -> BullMQ ->
 * worker -> got -> simulator -> recorded status + events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IdempotencyKeyConflictError } from '../../src/errors.js';
import { simAccountId, SIM_LOCKED_ID } from '../../src/sim/index.js';
import { manualIntent, startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

const manual = manualIntent;

describe('pipeline', () => {
  it('deactivates an account, records its status and emits one succeeded event', async () => {
    p = await startPipeline();
    const id = simAccountId(1);
    const r = await p.producer.enqueue(manual(id, 'ok-1'));
    expect(r).toMatchObject({
      status: 'enqueued',
      jobId: expect.stringMatching(/^k-ok-1@\d+$/) as string,
      state: 'new',
    });
    await p.waitFor(['ok-1']);

    const status = await p.status(id);
    expect(status).toMatchObject({
      account_id: id,
      status: 'inactive',
      is_active: false,
      last_action: 'deactivate',
      last_outcome: 'succeeded',
      idempotency_key: 'ok-1',
      source: 'manual',
      reason: 'integration test',
    });
    expect(status?.request_id).toMatch(/^req_/);
    expect(p.sim.account(id)?.is_active).toBe(false);

    const events = await p.events();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'action.succeeded',
      account_id: id,
      http_status: 200,
      attempts: 1,
      account_status: 'inactive',
    });
    expect(p.sim.stats().executions.byKey['ok-1']).toBe(1);
  });

  it('returns the existing job for a duplicate key, before and after completion, even once the job is removed', async () => {
    p = await startPipeline({ config: { keepCompletedJobs: 0 } });
    const id = simAccountId(2);
    const first = await p.producer.enqueue(manual(id, 'dup-1'));
    const again = await p.producer.enqueue({ ...manual(id, 'dup-1'), reason: 'reworded' });
    expect(again).toMatchObject({ status: 'duplicate', jobId: first.jobId });
    await p.waitFor(['dup-1']);
    expect(await p.producer.queue.getJob(first.jobId)).toBeUndefined(); // removeOnComplete took it

    const later = await p.producer.enqueue(manual(id, 'dup-1'));
    expect(later).toMatchObject({ status: 'duplicate', state: 'succeeded', jobId: first.jobId });
    expect(await p.producer.queue.getJob(first.jobId)).toBeUndefined(); // not re-added
    // Nothing is queued that could run it again (a positive check, not a wait-and-see).
    expect(
      await p.producer.queue.getJobCountByTypes('wait', 'delayed', 'active', 'prioritized'),
    ).toBe(0);
    expect(p.sim.stats().executions.byKey['dup-1']).toBe(1);
    expect(await p.events('action.succeeded')).toHaveLength(1);
  });

  it('collapses a key repeated inside one batch into one job, and refuses it for two intents', async () => {
    p = await startPipeline({ workers: 0 });
    const results = await p.producer.enqueueMany([
      manual(simAccountId(7), 'twice-in-batch'),
      { ...manual(simAccountId(7), 'twice-in-batch'), reason: 'reworded' },
    ]);
    expect(results.map((r) => r.jobId)).toEqual([results[0]?.jobId, results[0]?.jobId]);
    expect(await p.producer.queue.count()).toBe(1);
    await expect(
      p.producer.enqueueMany([
        manual(simAccountId(8), 'clash-in-batch'),
        manual(simAccountId(9), 'clash-in-batch'),
      ]),
    ).rejects.toThrow(IdempotencyKeyConflictError);
    expect(await p.redis.exists(p.keys.binding('clash-in-batch'))).toBe(0);
  });

  it('refuses a key reused for another intent and enqueues nothing', async () => {
    p = await startPipeline({ workers: 0 });
    await p.producer.enqueue(manual(simAccountId(3), 'reuse-1'));
    await expect(p.producer.enqueue(manual(simAccountId(4), 'reuse-1'))).rejects.toThrow(
      IdempotencyKeyConflictError,
    );
    await expect(
      p.producer.enqueue(manual(simAccountId(3), 'reuse-1', 'activate')),
    ).rejects.toThrow(/already used for another intent \(deactivate dprov_sim000003 by manual\)/);
    // A batch with one conflicting key enqueues none of the others.
    await expect(
      p.producer.enqueueMany([
        manual(simAccountId(5), 'fresh-1'),
        manual(simAccountId(6), 'reuse-1'),
      ]),
    ).rejects.toThrow(IdempotencyKeyConflictError);
    expect(await p.producer.queue.count()).toBe(1);
    expect(await p.redis.exists(p.keys.binding('fresh-1'))).toBe(0);
  });

  it('fails a 404 permanently with exactly one failed event, and keeps the job', async () => {
    p = await startPipeline();
    const r = await p.producer.enqueue(manual('dprov_doesnotexist', 'nf-1'));
    await p.waitFor(['nf-1']);
    const failed = await p.events('action.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      type: 'action.failed',
      account_id: 'dprov_doesnotexist',
      action: 'deactivate',
      idempotency_key: 'nf-1',
      source: 'manual',
      reason: 'integration test',
      http_status: 404,
      error_code: 'not_found',
      attempts: 1,
    });
    expect(failed[0]?.request_id).toMatch(/^req_/);
    expect(Date.parse(failed[0]?.at ?? '')).not.toBeNaN();
    const job = await p.producer.queue.getJob(r.jobId);
    await expect.poll(() => job?.getState()).toBe('failed');
    expect((await p.status('dprov_doesnotexist'))?.last_error).toMatchObject({
      code: 'not_found',
      http_status: 404,
    });
    expect(p.sim.stats().requests).toBe(1); // no retry of a permanent failure
  });

  it('fails 409 conflict (state forbids it) permanently', async () => {
    p = await startPipeline();
    await p.producer.enqueue(manual(SIM_LOCKED_ID, 'locked-1'));
    await p.waitFor(['locked-1']);
    const failed = await p.events('action.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ http_status: 409, error_code: 'conflict', attempts: 1 });
  });

  it('retries 500 and 503 (honouring Retry-After) then succeeds, executing once', async () => {
    p = await startPipeline();
    const id = simAccountId(7);
    p.sim.script(id, [
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503, retryAfterS: 1 },
    ]);
    const started = Date.now();
    await p.producer.enqueue(manual(id, 'flaky-1'));
    await p.waitFor(['flaky-1']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000); // the 503 asked for 1 s
    const events = await p.events();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'action.succeeded', attempts: 3 });
    expect(p.sim.stats().executions.byKey['flaky-1']).toBe(1);
    expect(p.sim.stats().faults).toMatchObject({ error500: 1, error503: 1 });
  });

  it('gives up after MAX_ATTEMPTS transient failures with one failed event', async () => {
    p = await startPipeline({ config: { maxAttempts: 2 } });
    const id = simAccountId(8);
    p.sim.script(id, [
      { kind: 'status', status: 500 },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 500 },
    ]);
    await p.producer.enqueue(manual(id, 'exhaust-1'));
    await p.waitFor(['exhaust-1']);
    const events = await p.events();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'action.failed',
      error_code: 'internal_error',
      http_status: 500,
      attempts: 2,
    });
    // Two calls, then one read that found the account still active (the 500s did not execute).
    expect(p.sim.stats().requests).toBe(3);
    expect(p.sim.account(id)).toMatchObject({ status: 'active' });
  });

  it('treats a timeout as transient and retries with the same key', async () => {
    p = await startPipeline({ config: { timeoutMs: 300 } });
    const id = simAccountId(9);
    p.sim.script(id, [{ kind: 'hang' }]);
    await p.producer.enqueue(manual(id, 'hang-1'));
    await p.waitFor(['hang-1']);
    expect((await p.events())[0]).toMatchObject({ type: 'action.succeeded', attempts: 2 });
    expect(p.sim.stats().executions.byKey['hang-1']).toBe(1);
  });

  it('retries a dropped connection', async () => {
    p = await startPipeline();
    const id = simAccountId(10);
    p.sim.script(id, [{ kind: 'drop' }]);
    await p.producer.enqueue(manual(id, 'drop-1'));
    await p.waitFor(['drop-1']);
    expect((await p.events())[0]).toMatchObject({ type: 'action.succeeded', attempts: 2 });
    expect(p.sim.stats().faults.drop).toBe(1);
    expect(p.sim.stats().executions.byKey['drop-1']).toBe(1);
  });

  it('waits out an in-flight 409 and gets the replayed answer: the operation runs once', async () => {
    // The first call times out client-side while the API is still working on it; the retry
    // hits 409 idempotency_conflict (in flight), and a later retry gets the replay.
    // maxAttempts 2: waiting for the in-flight call must not use up attempts.
    p = await startPipeline({ config: { timeoutMs: 300, backoffBaseMs: 100, maxAttempts: 2 } });
    const id = simAccountId(11);
    p.sim.script(id, [{ kind: 'delay', ms: 1_500 }]);
    await p.producer.enqueue(manual(id, 'inflight-1'));
    await p.waitFor(['inflight-1']);
    const stats = p.sim.stats();
    expect(stats.inFlightConflicts).toBeGreaterThanOrEqual(1);
    expect(stats.replays).toBeGreaterThanOrEqual(1);
    expect(stats.executions.byKey['inflight-1']).toBe(1);
    const events = await p.events();
    expect(events).toHaveLength(1);
    // Attempt 1 timed out; attempt 2 waited out the 409s and got the replay.
    expect(events[0]).toMatchObject({ type: 'action.succeeded', attempts: 2 });
  });

  it('stops waiting for an in-flight call after IN_FLIGHT_MAX_WAITS and reads the account: executed, so succeeded', async () => {
    p = await startPipeline({
      config: { timeoutMs: 200, backoffBaseMs: 100, backoffCapMs: 200, inFlightMaxWaits: 2 },
    });
    const id = simAccountId(13);
    p.sim.script(id, [{ kind: 'delay', ms: 5_000 }]);
    await p.producer.enqueue(manual(id, 'inflight-cap'));
    await p.waitFor(['inflight-cap']);
    const events = await p.events();
    expect(events).toHaveLength(1);
    // The call executed at once (its answer is only late): the read finds the account off, so
    // the truth is recorded rather than an idempotency_conflict failure.
    expect(events[0]).toMatchObject({
      type: 'action.succeeded',
      http_status: 200,
      account_status: 'inactive',
    });
    // One timed-out call, then the first 409 and two waits, each answered 409.
    expect(p.sim.stats().inFlightConflicts).toBe(3);
    expect(p.sim.stats().executions.byKey['inflight-cap']).toBe(1);
  });

  it('activates an account again', async () => {
    p = await startPipeline();
    const id = simAccountId(12);
    await p.producer.enqueue(manual(id, 'off-12'));
    await p.waitFor(['off-12']);
    await p.producer.enqueue(manual(id, 'on-12', 'activate'));
    await p.waitFor(['on-12']);
    expect(await p.status(id)).toMatchObject({
      status: 'active',
      is_active: true,
      last_action: 'activate',
    });
  });

  it('enqueues many intents in chunks and runs each once', async () => {
    p = await startPipeline({ config: { concurrency: 8 } });
    const intents = Array.from({ length: 25 }, (_, i) => manual(simAccountId(i + 1), `many-${i}`));
    const results = await p.producer.enqueueMany(intents, { chunkSize: 7 });
    expect(results.map((r) => r.status)).toEqual(Array(25).fill('enqueued'));
    await p.waitFor(intents.map((i) => i.idempotencyKey));
    expect(p.sim.stats().executions.total).toBe(25);
    expect(await p.events('action.succeeded')).toHaveLength(25);
  });
});

describe('rate limits', () => {
  it("someone else's 429s are honoured (Retry-After) across two workers without consuming attempts", async () => {
    // The shared rate budget keeps the workers inside the key's window by itself, so the 429s
    // here come from someone else spending the key (scripted: three accounts, one 429 each).
    p = await startPipeline({
      sim: { rateLimit: 0, rateWindowMs: 1_000 },
      config: { concurrency: 2, rateLimitLowWatermark: 0, maxAttempts: 2 },
      workers: 2,
    });
    for (const i of [1, 2, 3]) {
      p.sim.script(simAccountId(i), [{ kind: 'status', status: 429, retryAfterS: 1 }]);
    }
    const intents = Array.from({ length: 12 }, (_, i) => manual(simAccountId(i + 1), `rl-${i}`));
    const started = Date.now();
    await p.producer.enqueueMany(intents);
    await p.waitFor(
      intents.map((i) => i.idempotencyKey),
      30_000,
    );
    const stats = p.sim.stats();
    const succeeded = await p.events('action.succeeded');
    expect(succeeded).toHaveLength(12);
    expect(stats.rateLimited).toBe(3);
    // With maxAttempts 2, a 429 that consumed attempts would have failed jobs; none did.
    const seen = JSON.stringify({ attempts: succeeded.map((e) => e.attempts), stats });
    expect(
      succeeded.every((e) => e.attempts === 1),
      seen,
    ).toBe(true);
    // Retry-After (1 s) was honoured: the queue waited before the 429ed calls went again.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('slows down before the API says 429 when X-RateLimit-Remaining runs low', async () => {
    p = await startPipeline({
      sim: { rateLimit: 4, rateWindowMs: 1_000 },
      config: { concurrency: 1, rateLimitLowWatermark: 1 },
    });
    const intents = Array.from({ length: 9 }, (_, i) => manual(simAccountId(i + 1), `low-${i}`));
    await p.producer.enqueueMany(intents);
    await p.waitFor(
      intents.map((i) => i.idempotencyKey),
      30_000,
    );
    expect(p.sim.stats().rateLimited).toBe(0);
    expect(p.sim.stats().executions.total).toBe(9);
  });

  it('caps rate-limit put-backs: a job that keeps getting 429 fails once with rate_limit_exceeded', async () => {
    p = await startPipeline({
      sim: { rateLimit: 0, rateWindowMs: 1_000 },
      config: { rateLimitLowWatermark: 0, rateLimitMaxWaits: 2, rateLimitMaxWaitMs: 1_000 },
    });
    p.sim.script(
      simAccountId(2),
      Array.from({ length: 4 }, () => ({
        kind: 'status' as const,
        status: 429 as const,
        retryAfterS: 1,
      })),
    );
    await p.producer.enqueueMany([
      manual(simAccountId(1), 'cap-1'),
      manual(simAccountId(2), 'cap-2'),
    ]);
    const states = await p.waitFor(['cap-1', 'cap-2'], 20_000);
    expect([...states.values()].sort()).toEqual(['failed', 'succeeded']);
    const failed = await p.events('action.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ http_status: 429, error_code: 'rate_limit_exceeded' });
    // The original call and two put-backs, each answered 429; then it gave up.
    expect(p.sim.stats().rateLimited).toBe(3);
  });

  it('keeps inside the key window by itself: a limit smaller than the backlog gives no 429', async () => {
    p = await startPipeline({
      sim: { rateLimit: 4, rateWindowMs: 1_000, rateAligned: true },
      config: { concurrency: 2, rateLimitLowWatermark: 0, rateLimitPerMinute: 0 },
      workers: 2,
    });
    // Two answers in two windows first, so the budget knows the window and its length (until
    // then it holds nothing back: the first window change after a start may see one 429).
    await p.producer.enqueueMany([manual(simAccountId(20), 'learn-1')]);
    await p.waitFor(['learn-1']);
    await new Promise((r) => setTimeout(r, 1_100));
    await p.producer.enqueueMany([manual(simAccountId(21), 'learn-2')]);
    await p.waitFor(['learn-2']);
    const intents = Array.from({ length: 10 }, (_, i) => manual(simAccountId(i + 1), `in-${i}`));
    await p.producer.enqueueMany(intents);
    await p.waitFor(
      intents.map((i) => i.idempotencyKey),
      30_000,
    );
    expect(p.sim.stats().executions.total).toBe(12);
    // The window is 4: without the budget, 4 calls at once on a fresh window plus the next
    // would be refused (measured once with the take switched off: 6 429s).
    expect(p.sim.stats().rateLimited).toBe(0);
  });
});
