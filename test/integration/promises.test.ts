/**
 * The promises of docs/architecture.md, each driven into the corner where the first version
 * broke it (issue 5, section 0): one terminal event per intent, the truth recorded, a key never
 * silently dead, per-account order, a status that never goes backwards.
 */
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { IdempotencyKeyConflictError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { jobIdFor } from '../../src/queue/job-id.js';
import { openProducer } from '../../src/queue/open-producer.js';
import { createRedis } from '../../src/redis/connect.js';
import { simAccountId } from '../../src/sim/index.js';
import { readBindings } from '../../src/store/binding.js';
import { QUEUE_NAME } from '../../src/store/keys.js';
import { recordOutcome, type Outcome } from '../../src/store/record-outcome.js';
import { repairStuckBindings } from '../../src/worker/repair.js';
import { waitFor } from '../support/context.js';
import { manualIntent, startPipeline, type Pipeline } from '../support/pipeline.js';
import { watchOverlap } from '../support/sim-calls.js';

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

const intent = manualIntent;

/** A failure outcome for an enqueued intent, as a run would record it. */
async function failureFor(
  q: Pipeline,
  input: ReturnType<typeof manualIntent>,
  jobId: string,
  error: { httpStatus: number | null; code: string; message: string },
): Promise<Outcome> {
  const seq = (await readBindings(q.redis, q.keys, [input.idempotencyKey]))[0]?.seq ?? 0;
  return {
    intent: input,
    seq,
    jobId,
    attempts: 1,
    at: new Date(),
    outcome: 'failed',
    httpStatus: error.httpStatus,
    errorCode: error.code,
    errorMessage: error.message,
    requestId: null,
  };
}

const silent = createLogger({ level: 'silent', pretty: false });

describe('one terminal event per intent', () => {
  it('a re-run after the outcome was recorded (crash before BullMQ moved the job) records nothing more', async () => {
    // The first run recorded `failed` and died before BullMQ moved the job; the re-run gets
    // the API's replay. Before: the outcome script refused only the *same* outcome, so the
    // re-run added `action.succeeded`: two events for one intent.
    p = await startPipeline({ workers: 0 });
    const id = simAccountId(1);
    const r = await p.producer.enqueue(intent(id, 'crash-after-record'));
    const failure = await failureFor(p, intent(id, 'crash-after-record'), r.jobId, {
      httpStatus: null,
      code: 'timeout',
      message: 'timeout (the answer was lost)',
    });
    const recorded = await recordOutcome(p.redis, p.keys, p.config, failure, undefined);
    expect(recorded).toBe('recorded');
    await p.addWorker();
    await waitFor(
      async () =>
        (await p?.producer.queue.getJob(r.jobId))?.finishedOn !== undefined ? true : undefined,
      10_000,
      'the re-run to finish',
    );
    const events = await p.events();
    expect(events.map((e) => e.type)).toEqual(['action.failed']);
    expect(p.sim.stats().requests).toBe(0); // the re-run saw the terminal state and did not call
  });

  it('a run that lost its job lock mid-call records nothing; the run that owns the job records once', async () => {
    // Before: the first run never noticed (no lockRenewalFailed handling, no abort signal) and
    // recorded too: `action.failed` (409 in flight) and then `action.succeeded`.
    p = await startPipeline({
      workers: 0,
      config: { lockDurationMs: 1_000, stalledIntervalMs: 500, timeoutMs: 5_000 },
    });
    const id = simAccountId(2);
    p.sim.script(id, [{ kind: 'delay', ms: 2_500 }]);
    await p.addWorker();
    await p.addWorker();
    const r = await p.producer.enqueue(intent(id, 'lock-lost'));
    await waitFor(() => (p?.sim.stats().requests === 1 ? true : undefined), 5_000, 'the call');
    // A Redis blip or an event-loop stall: the lock is gone while the call is in flight.
    await p.redis.del(p.keys.jobLock(r.jobId));
    await p.waitFor(['lock-lost'], 20_000);
    // Closing waits for every running processor to return: a late recording by the first
    // run would have happened by now.
    await Promise.all(p.workers.map((w) => w.close(10_000)));
    const events = await p.events();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'action.succeeded', idempotency_key: 'lock-lost' });
    expect(p.sim.stats().executions.byKey['lock-lost']).toBe(1);
  });

  it('reads the account before a timeout on the last attempt becomes a failure: executed, so succeeded', async () => {
    // MAX_ATTEMPTS=1 and the API answers after the client gave up. Before: action.failed
    // timeout, though the account was off.
    p = await startPipeline({ config: { maxAttempts: 1, timeoutMs: 300 } });
    const id = simAccountId(3);
    p.sim.script(id, [{ kind: 'delay', ms: 1_000 }]);
    await p.producer.enqueue(intent(id, 'late-answer'));
    await p.waitFor(['late-answer']);
    const events = await p.events();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'action.succeeded',
      account_status: 'inactive',
      http_status: 200,
      attempts: 1,
    });
    expect(p.sim.stats().executions.byKey['late-answer']).toBe(1);
  });
});

describe('a run that lost its lock', () => {
  it('cannot record: the outcome script checks the lock token atomically', async () => {
    p = await startPipeline({ workers: 0 });
    const id = simAccountId(13);
    const r = await p.producer.enqueue(intent(id, 'token-check'));
    const outcome = await failureFor(p, intent(id, 'token-check'), r.jobId, {
      httpStatus: 409,
      code: 'idempotency_conflict',
      message: 'in flight',
    });
    await p.redis.set(p.keys.jobLock(r.jobId), 'the-new-owner');
    expect(await recordOutcome(p.redis, p.keys, p.config, outcome, 'the-old-run')).toBe('lost');
    await p.redis.del(p.keys.jobLock(r.jobId));
    expect(await recordOutcome(p.redis, p.keys, p.config, outcome, 'the-old-run')).toBe('lost');
    expect(await p.events()).toHaveLength(0);
    await p.redis.set(p.keys.jobLock(r.jobId), 'the-new-owner');
    expect(await recordOutcome(p.redis, p.keys, p.config, outcome, 'the-new-owner')).toBe(
      'recorded',
    );
  });
});

describe('a key is never silently dead', () => {
  it('a key enqueued again after its binding expired runs again (a new job), and --wait ends', async () => {
    // Before: addBulk with the old job id was a no-op while BullMQ kept the failed job: the
    // producer said `enqueued`, nothing ran, no event came, and a wait hung forever.
    p = await startPipeline();
    const first = await p.producer.enqueue(intent('dprov_doesnotexist', 'again'));
    await p.waitFor(['again']);
    expect(await p.producer.queue.getJobState(first.jobId)).toBe('failed');
    await p.redis.del(p.keys.binding('again')); // what IDEMPOTENCY_TTL_S does a day later
    const second = await p.producer.enqueue(intent('dprov_doesnotexist', 'again'));
    expect(second).toMatchObject({ status: 'enqueued', state: 'new' });
    expect(second.jobId).not.toBe(first.jobId);
    await p.waitFor(['again'], 10_000);
    expect((await p.events('action.failed')).map((e) => e.job_id)).toEqual([
      first.jobId,
      second.jobId,
    ]);
  });

  it('keeps a queued binding without expiry (it outlives any backlog) and expires it after the outcome', async () => {
    // Before: the binding expired IDEMPOTENCY_TTL_S after the claim even while its job was
    // still queued, and the outcome script re-created it without its fingerprint.
    p = await startPipeline({ workers: 0 });
    await p.producer.enqueue(intent(simAccountId(4), 'backlog'));
    expect(await p.redis.ttl(p.keys.binding('backlog'))).toBe(-1);
    await p.addWorker();
    await p.waitFor(['backlog']);
    const ttl = await p.redis.ttl(p.keys.binding('backlog'));
    expect(ttl).toBeGreaterThan(p.config.idempotencyTtlS - 60);
    expect(ttl).toBeLessThanOrEqual(p.config.idempotencyTtlS);
    // The key still refuses another intent while it lives.
    await expect(p.producer.enqueue(intent(simAccountId(5), 'backlog'))).rejects.toThrow(
      /already used for another intent/,
    );
  });

  it('repairs a binding left queued whose job failed without an outcome, and one whose job is gone: one event each', async () => {
    // Before: the backstop recorded once, in memory, after BullMQ had moved the job; a Redis
    // error at that moment left the binding queued forever and no event.
    p = await startPipeline({ workers: 0 });
    const failed = await p.producer.enqueue(intent(simAccountId(6), 'failed-unrecorded'));
    const lost = await p.producer.enqueue(intent(simAccountId(7), 'job-lost'));
    // Fail the first job the way BullMQ does, without our processor (and so without a record).
    const connection = createRedis(p.config);
    const raw = new Worker(QUEUE_NAME, null, { connection, prefix: p.config.prefix });
    try {
      const job = await raw.getNextJob('tok');
      expect(job.id).toBe(failed.jobId);
      await job.moveToFailed(new UnrecoverableError('recording failed: READONLY'), 'tok', false);
    } finally {
      await raw.close();
      await connection.quit();
    }
    await p.producer.queue.remove(lost.jobId);

    const deps = {
      redis: p.redis,
      queue: p.producer.queue,
      keys: p.keys,
      config: p.config,
      log: silent,
      minAgeMs: 0,
    };
    expect(await repairStuckBindings(deps)).toMatchObject({ repaired: 2 });
    expect(await repairStuckBindings(deps)).toMatchObject({ repaired: 0 });
    const events = await p.events();
    expect(events.map((e) => [e.idempotency_key, e.error_code])).toEqual(
      expect.arrayContaining([
        ['failed-unrecorded', 'outcome_lost'],
        ['job-lost', 'job_lost'],
      ]),
    );
    expect(events).toHaveLength(2);
    await expect(p.waitFor(['failed-unrecorded', 'job-lost'], 1_000)).resolves.toBeDefined();
  });

  it('leaves young and still-running intents alone', async () => {
    p = await startPipeline({ workers: 0 });
    await p.producer.enqueue(intent(simAccountId(8), 'young'));
    const deps = {
      redis: p.redis,
      queue: p.producer.queue,
      keys: p.keys,
      config: p.config,
      log: silent,
    };
    expect(await repairStuckBindings(deps)).toEqual({ checked: 0, repaired: 0 });
    expect(await repairStuckBindings({ ...deps, minAgeMs: 0 })).toEqual({
      checked: 1,
      repaired: 0,
    });
    // While another worker repairs, this one leaves it to them.
    await p.redis.set(p.keys.repairTurn, 'another worker', 'PX', 10_000);
    expect(await repairStuckBindings({ ...deps, minAgeMs: 0 })).toEqual({
      checked: 0,
      repaired: 0,
    });
  });
});

describe('waits are counted per kind', () => {
  it('rate-limit put-backs do not use up the in-flight waits', async () => {
    // Before: one counter (attemptsStarted - attemptsMade - 1) for both, so after three 429s
    // the first in-flight 409 failed the intent at once with IN_FLIGHT_MAX_WAITS=3.
    // A 1 s rate window, so the 429s' X-RateLimit-Reset (honoured with Retry-After) is near.
    p = await startPipeline({
      // In-flight waits of at least 400 ms: three of them outlast the 900 ms call.
      config: { timeoutMs: 300, backoffBaseMs: 400, backoffCapMs: 600, inFlightMaxWaits: 3 },
      sim: { rateWindowMs: 1_000 },
    });
    const id = simAccountId(9);
    p.sim.script(id, [
      { kind: 'status', status: 429, retryAfterS: 1 },
      { kind: 'status', status: 429, retryAfterS: 1 },
      { kind: 'status', status: 429, retryAfterS: 1 },
      { kind: 'delay', ms: 900 },
    ]);
    await p.producer.enqueue(intent(id, 'mixed-waits'));
    await p.waitFor(['mixed-waits'], 20_000);
    const [binding] = await readBindings(p.redis, p.keys, ['mixed-waits']);
    expect(binding?.state).toBe('succeeded');
    expect(binding?.waits.rate_limit).toBe(3);
    expect(binding?.waits.in_flight).toBeGreaterThanOrEqual(1);
    expect(p.sim.stats().rateLimited).toBe(3);
    // It waited the in-flight call out and got the replay (not a give-up rescued by a read).
    expect(p.sim.stats().replays).toBeGreaterThanOrEqual(1);
  });
});

describe('per-account order', () => {
  it('an older intent still waiting for a retry when a newer one arrives ends as superseded and never calls again', async () => {
    // Before: the deactivate's retry ran after the activate and the account ended off,
    // though the last thing asked was "on".
    p = await startPipeline({ config: { backoffBaseMs: 1_500, backoffCapMs: 1_500 } });
    const id = simAccountId(10);
    p.sim.script(id, [{ kind: 'status', status: 503, retryAfterS: 1 }]);
    await p.producer.enqueue(intent(id, 'off-first'));
    await waitFor(() => (p?.sim.stats().faults.error503 === 1 ? true : undefined), 5_000, '503');
    await p.producer.enqueue(intent(id, 'on-later', 'activate'));
    await p.waitFor(['off-first', 'on-later']);
    const events = await p.events();
    expect(events.map((e) => [e.idempotency_key, e.type])).toEqual(
      expect.arrayContaining([
        ['off-first', 'action.superseded'],
        ['on-later', 'action.succeeded'],
      ]),
    );
    expect(events).toHaveLength(2);
    expect(events.find((e) => e.type === 'action.superseded')?.superseded_by).toBe('on-later');
    expect(p.sim.account(id)).toMatchObject({ status: 'active' });
    expect(p.sim.stats().executions.byAccount[id]).toEqual({ activate: 1, deactivate: 0 });
    expect(await p.status(id)).toMatchObject({ status: 'active', last_action: 'activate' });
  });

  it('a newer intent waits while an older call on the same account is in flight', async () => {
    p = await startPipeline({ workers: 2 });
    const id = simAccountId(11);
    const calls = watchOverlap(p.sim, `/providers/${id}/`);
    p.sim.script(id, [{ kind: 'delay', ms: 1_000 }]);
    await p.producer.enqueue(intent(id, 'slow-off'));
    await waitFor(() => (p?.sim.stats().requests === 1 ? true : undefined), 5_000, 'the call');
    await p.producer.enqueue(intent(id, 'quick-on', 'activate'));
    // The second worker has the activate but must not call while the deactivate is in flight:
    // the two calls never overlap at the API.
    await p.waitFor(['slow-off', 'quick-on']);
    expect(calls.seen()).toBe(2);
    expect(calls.maxInFlight()).toBe(1);
    expect((await p.events()).map((e) => e.idempotency_key)).toEqual(['slow-off', 'quick-on']);
    expect(p.sim.account(id)).toMatchObject({ status: 'active' });
    expect(await p.status(id)).toMatchObject({ status: 'active', last_action: 'activate' });
  });
});

describe('the recorded status never goes backwards', () => {
  it('a late, older answer does not overwrite a newer one', async () => {
    const q = await startPipeline({ workers: 0 });
    p = q;
    const id = simAccountId(12);
    const [older, newer] = await q.producer.enqueueMany([
      intent(id, 'older'),
      intent(id, 'newer', 'activate'),
    ]);
    const bindings = await readBindings(q.redis, q.keys, ['older', 'newer']);
    const account = (status: string, updatedAt: string) => ({
      status,
      is_active: status === 'active',
      status_reason: null,
      updated_at: updatedAt,
    });
    const success = (key: 'older' | 'newer', i: 0 | 1, status: string, at: string) =>
      recordOutcome(
        q.redis,
        q.keys,
        q.config,
        {
          intent: intent(id, key, key === 'older' ? 'deactivate' : 'activate'),
          seq: bindings[i]?.seq ?? 0,
          jobId: (i === 0 ? older : newer)?.jobId ?? '',
          attempts: 1,
          at: new Date(),
          outcome: 'succeeded',
          account: account(status, at),
          requestId: `req_${key}`,
          httpStatus: 200,
        },
        undefined,
      );
    expect(await success('newer', 1, 'active', '2026-11-28T10:00:05Z')).toBe('recorded');
    // The deactivate's stale replay (older updated_at, older intent) arrives last.
    expect(await success('older', 0, 'inactive', '2026-11-28T10:00:01Z')).toBe('recorded');
    expect(await q.status(id)).toMatchObject({
      status: 'active',
      is_active: true,
      updated_at: '2026-11-28T10:00:05Z',
      request_id: 'req_newer',
      last_action: 'activate',
      idempotency_key: 'newer',
    });
    expect(jobIdFor('older', bindings[0]?.seq ?? 0)).toBe(older?.jobId);
  });
});

describe('the truth recorded', () => {
  it('a 2xx whose body changed shape (a new enum value) is a success, recorded as read', async () => {
    // Before: the strict parse failed and the intent became `action.failed` with http_status
    // 200, though the API had done it.
    p = await startPipeline();
    const id = simAccountId(14);
    p.sim.script(id, [{ kind: 'mutate', set: { status: 'disabled' } }]);
    await p.producer.enqueue(intent(id, 'new-enum'));
    await p.waitFor(['new-enum']);
    const events = await p.events();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'action.succeeded', account_status: 'disabled' });
    expect(await p.status(id)).toMatchObject({ status: 'disabled', is_active: false });
  });

  it('a 2xx about another account fails the intent and leaves the status alone', async () => {
    p = await startPipeline();
    const id = simAccountId(15);
    p.sim.script(id, [{ kind: 'mutate', set: { id: simAccountId(16) } }]);
    await p.producer.enqueue(intent(id, 'wrong-account'));
    await p.waitFor(['wrong-account']);
    expect((await p.events())[0]).toMatchObject({
      type: 'action.failed',
      error_code: 'response_mismatch',
      http_status: 200,
    });
    expect((await p.status(id))?.status ?? null).toBeNull();
  });

  it('a 5xx the API marks not retryable fails at once', async () => {
    p = await startPipeline({ config: { maxAttempts: 5 } });
    const id = simAccountId(17);
    p.sim.script(id, [{ kind: 'status', status: 500, retryable: false }]);
    await p.producer.enqueue(intent(id, 'not-retryable'));
    await p.waitFor(['not-retryable']);
    expect((await p.events())[0]).toMatchObject({
      type: 'action.failed',
      http_status: 500,
      attempts: 1,
    });
    expect(p.sim.stats().requests).toBe(1);
  });

  it('an account already in the asked state is a success, whether the API says 200 or 409 conflict', async () => {
    p = await startPipeline();
    const id = simAccountId(18);
    await p.producer.enqueue(intent(id, 'off-1'));
    await p.waitFor(['off-1']);
    await p.producer.enqueue(intent(id, 'off-again'));
    await p.waitFor(['off-again']);
    expect(p.sim.stats().executions.noop).toBe(1);
    p.sim.script(id, [{ kind: 'conflict' }]);
    await p.producer.enqueue(intent(id, 'off-conflict'));
    await p.waitFor(['off-conflict']);
    const events = await p.events();
    expect(events.map((e) => [e.idempotency_key, e.type])).toEqual([
      ['off-1', 'action.succeeded'],
      ['off-again', 'action.succeeded'],
      ['off-conflict', 'action.succeeded'],
    ]);
  });

  it('an answer lost after the API executed is found out by the replay on a retry', async () => {
    p = await startPipeline({ config: { maxAttempts: 2 } });
    const id = simAccountId(19);
    p.sim.script(id, [{ kind: 'lost', mode: 'drop' }]);
    await p.producer.enqueue(intent(id, 'lost-retry'));
    await p.waitFor(['lost-retry']);
    expect((await p.events()).map((e) => e.type)).toEqual(['action.succeeded']);
    expect(p.sim.stats().replays).toBe(1);
    expect(p.sim.stats().executions.byKey['lost-retry']).toBe(1);
  });

  it('an answer lost on the last attempt is found out by reading the account', async () => {
    p = await startPipeline({ config: { maxAttempts: 1 } });
    const id = simAccountId(20);
    p.sim.script(id, [{ kind: 'lost', mode: 'drop' }]);
    await p.producer.enqueue(intent(id, 'lost-last'));
    await p.waitFor(['lost-last']);
    expect((await p.events())[0]).toMatchObject({
      type: 'action.succeeded',
      account_status: 'inactive',
    });
    expect(p.sim.stats().executions.byKey['lost-last']).toBe(1);
  });
});

describe('a bad or revoked API key', () => {
  it('pauses the whole queue without failing the backlog, and the jobs run once the key works again', async () => {
    // Before: every job failed, one at a time, with authentication_required.
    const q = await startPipeline({ config: { authRetryMs: 300 } });
    p = q;
    q.sim.setKeyRevoked(true);
    await q.producer.enqueueMany([1, 2, 3].map((i) => intent(simAccountId(20 + i), `auth-${i}`)));
    await waitFor(
      async () => {
        const b = await readBindings(q.redis, q.keys, ['auth-1', 'auth-2', 'auth-3']);
        return b.some((x) => (x?.waits.auth ?? 0) >= 2) ? true : undefined;
      },
      10_000,
      'jobs to be put back after 401s',
    );
    expect(await p.events()).toHaveLength(0);
    p.sim.setKeyRevoked(false);
    await p.waitFor(['auth-1', 'auth-2', 'auth-3'], 15_000);
    const events = await p.events();
    expect(events.map((e) => e.type)).toEqual([
      'action.succeeded',
      'action.succeeded',
      'action.succeeded',
    ]);
  });
});

describe('the rate budget', () => {
  it('slows down on a low X-RateLimit-Remaining whatever the status (a 404 too)', async () => {
    p = await startPipeline({
      config: { rateLimitLowWatermark: 3, rateLimitPerMinute: 0 },
      sim: { rateLimit: 5, rateWindowMs: 10_000 },
    });
    await p.producer.enqueueMany([1, 2].map((i) => intent(`dprov_missing${i}`, `low-404-${i}`)));
    await p.waitFor(['low-404-1', 'low-404-2']);
    // The second 404 reported Remaining 3: every worker pauses until the window resets.
    expect(await p.redis.pttl(p.keys.limiter)).toBeGreaterThan(1_000);
  });
});

describe('two producers racing for one key', () => {
  it('bind it to exactly one intent: the other is refused, never both enqueued', async () => {
    const q = await startPipeline({ workers: 0 });
    p = q;
    const other = openProducer(q.config);
    try {
      for (let i = 0; i < 20; i++) {
        const key = `race-${i}`;
        const results = await Promise.allSettled([
          q.producer.enqueue(intent(simAccountId(1), key)),
          other.enqueue(intent(simAccountId(2), key, 'activate')),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(
          IdempotencyKeyConflictError,
        );
      }
      expect(await q.producer.queue.count()).toBe(20);
    } finally {
      await other.close();
    }
  });
});
