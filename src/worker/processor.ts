/**
 * What a worker does with one job: make sure it is this intent's turn, call the API with the
 * intent's idempotency key, and carry out the decision of policy.ts (record the outcome, put
 * the job back, or let BullMQ retry). Knows nothing of HTTP routes or the CLI.
 *
 * This file is the run's order (whose turn, the call, what it means); job-endings.ts records how
 * it ends, job-signals.ts hands the job back to BullMQ, low-watermark.ts pauses a queue whose
 * API window runs low, processor-types.ts has the types.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError } from 'bullmq';
import { countPutBack, countRateLimitWait } from '../metrics/metrics.js';
import { isUrgentIntent, jobIntent, type ActionJobResult } from '../queue/queue.js';
import type { AccountAnswer } from '../sendmux/account-answer.js';
import type { ApiResult } from '../sendmux/client.js';
import { SendmuxError } from '../sendmux/errors.js';
import { beginRun, type RunRef } from '../store/begin-run.js';
import { countWait } from '../store/count-wait.js';
import { URGENT_QUEUE_NAME } from '../store/keys.js';
import { pauseQueue } from '../store/pause-queue.js';
import { recordOutcome, type Outcome, type OutcomeBase } from '../store/record-outcome.js';
import { limiterFor } from './backoff.js';
import { jobEndings } from './job-endings.js';
import { lockLost, putBack } from './job-signals.js';
import { slowDownIfLow } from './low-watermark.js';
import {
  CRASH_ALLOWANCE,
  crashesSoFar,
  decide,
  type Answer,
  type Counters,
  type Decision,
} from './policy.js';
import { ABORT_LOCK_LOST, type Processor, type ProcessorDeps } from './processor-types.js';

export {
  ABORT_LOCK_LOST,
  ABORT_SHUTDOWN,
  type ActionJob,
  type Processor,
  type ProcessorConfig,
  type ProcessorDeps,
} from './processor-types.js';

/** The account lease outlives a call by this much, so a dead worker's lease expires soon. */
const LEASE_MARGIN_MS = 5_000;
/** How often a job waiting for another call on the same account checks again. */
const BUSY_POLL_MS = 200;

export function createProcessor(deps: ProcessorDeps): Processor {
  const { client, redis, keys, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const leaseMs = config.timeoutMs + LEASE_MARGIN_MS;
  // Above this, the actions queue's limiter is a pause (pause-queue.ts), not a slot's count.
  const pauseAbove = limiterFor(config.rateLimitPerMinute).max;

  return async function processJob(job, token, signal) {
    const intent = jobIntent(job.data);
    // A job of the urgent queue: no BullMQ limiter slot was waited for; begin-run checks the
    // pauses (429, refused key, low watermark) the actions queue's limiter would have held.
    const queue = job.queueName === URGENT_QUEUE_NAME ? URGENT_QUEUE_NAME : undefined;
    const run: RunRef = {
      jobId: job.id ?? '',
      token: token ?? '',
      key: intent.idempotencyKey,
      seq: intent.seq,
      accountId: intent.accountId,
      action: intent.action,
      queue,
    };
    // Built only when something is logged: the hot path allocates as little as it can.
    const where = () => ({
      job_id: run.jobId,
      account_id: intent.accountId,
      idempotency_key: intent.idempotencyKey,
      action: intent.action,
    });
    const base = (attempts: number): OutcomeBase => ({
      intent,
      seq: intent.seq,
      jobId: run.jobId,
      queue,
      attempts,
      at: now(),
    });
    const record = async (o: Outcome) => {
      const result = await recordOutcome(redis, keys, config, o, token);
      if (result === 'lost') throw lockLost('before recording');
      return result;
    };
    const none: ActionJobResult = { outcome: 'none', status: null, request_id: null };

    // 1. Whose turn is it? Wait while another intent's call on this account is in flight.
    // ... and while the API key's window has no room left for us (rate-budget.ts).
    // A breaker trip is urgent: it is not paced behind the others and may use the reserve.
    const urgent = isUrgentIntent(intent);
    const budget = () => ({
      reserve: config.rateLimitReserve,
      now: now().getTime(),
      urgent,
      pauseAbove: queue === undefined ? undefined : pauseAbove,
    });
    let begun = await beginRun(redis, keys, run, leaseMs, budget());
    let budgetWaitMs = 0;
    while (begun.kind === 'busy' || begun.kind === 'budget' || begun.kind === 'paused') {
      if (begun.kind === 'paused') {
        // The queue is paused (the API refused us, or the window runs low): this job waits
        // it out in the delayed set, not in a worker's slot; nothing was taken or counted.
        return putBack(job, token, { delayMs: begun.retryInMs });
      }
      if (signal?.aborted) {
        countPutBack('shutdown');
        return putBack(job, token, { delayMs: 0 });
      }
      const ms = Math.min(Math.max(begun.retryInMs, 20), BUSY_POLL_MS);
      if (begun.kind === 'budget') budgetWaitMs += ms;
      await sleep(ms);
      begun = await beginRun(redis, keys, run, leaseMs, budget());
    }
    if (budgetWaitMs > 0) countRateLimitWait('budget', budgetWaitMs / 1000);
    switch (begun.kind) {
      case 'lost':
        throw lockLost('before it started');
      case 'stale':
      case 'terminal':
        return none;
      case 'superseded':
        await record({ ...base(job.attemptsMade), outcome: 'superseded', by: begun.by });
        log.info(
          { ...where(), superseded_by: begun.by },
          `${intent.action} superseded by a newer intent`,
        );
        return { ...none, outcome: 'superseded' };
      case 'held': {
        // Checked at the call: no activation runs while a hold stands (store/holds.ts). Its
        // one terminal event names the holds; the account comes back when the last one goes.
        const by = `hold:${begun.by}`;
        await record({ ...base(job.attemptsMade), outcome: 'superseded', by });
        log.info(
          { ...where(), superseded_by: by },
          'activation not run: the account has a hold (it comes back on when the last hold goes)',
        );
        return { ...none, outcome: 'superseded' };
      }
      case 'go':
        break;
    }
    const counters: Counters = { attempt: job.attemptsMade + 1, waits: begun.waits };
    const crashes = crashesSoFar(begun.starts, counters);
    if (crashes > CRASH_ALLOWANCE) {
      const why = `the job was started ${begun.starts} times and ended without an outcome ${crashes} times (crashes, kills or lost locks)`;
      await record({
        ...base(counters.attempt),
        outcome: 'failed',
        httpStatus: null,
        errorCode: 'worker_gave_up',
        errorMessage: why,
        requestId: null,
      });
      throw new UnrecoverableError(why);
    }

    // 2. The call.
    let result: ApiResult<AccountAnswer> | undefined;
    let answer: Answer;
    try {
      result = await client.runAction(intent.action, intent.accountId, {
        idempotencyKey: intent.idempotencyKey,
        signal,
      });
      answer = { kind: 'ok', answeredId: result.data.id, accountId: intent.accountId };
    } catch (caught) {
      answer =
        caught instanceof SendmuxError
          ? { kind: 'error', error: caught }
          : {
              kind: 'unexpected',
              error: caught instanceof Error ? caught : new Error(String(caught)),
            };
    }
    if (signal?.aborted && (answer.kind !== 'ok' || signal.reason === ABORT_LOCK_LOST)) {
      answer = {
        kind: 'aborted',
        why: signal.reason === ABORT_LOCK_LOST ? 'lock_lost' : 'shutdown',
      };
    }
    await slowDownIfLow(
      deps,
      now,
      answer.kind === 'error' ? answer.error.rateLimit : result?.rateLimit,
    );

    const { succeed, fail, verify } = jobEndings({
      client,
      log,
      intent,
      signal,
      where,
      base,
      record,
      result,
    });

    // 3. What it means.
    const decision: Decision = decide(answer, counters, config);
    switch (decision.do) {
      case 'succeed': {
        const r = result as ApiResult<AccountAnswer>;
        if (r.data.problems.length > 0) {
          log.warn(
            { ...where(), request_id: r.requestId, problems: r.data.problems.slice(0, 5) },
            'the API answered 2xx with a body that does not match the contract: recorded what could be read',
          );
        }
        return succeed(r, counters.attempt);
      }
      case 'fail':
        return fail(answer, counters.attempt, decision.why, decision.code);
      case 'verify':
        return verify(answer, counters.attempt, decision.why);
      case 'retry': {
        const err =
          answer.kind === 'error' || answer.kind === 'unexpected' ? answer.error : undefined;
        log.warn(
          {
            ...where(),
            attempt: counters.attempt,
            request_id: err instanceof SendmuxError ? err.requestId : undefined,
            http_status: err instanceof SendmuxError ? err.status : undefined,
            error_code: err instanceof SendmuxError ? err.code : undefined,
          },
          `${intent.action} will be retried: ${err?.message ?? 'unknown error'}`,
        );
        throw err ?? new Error('retry without an error');
      }
      case 'put-back': {
        const n = await countWait(redis, keys, run, decision.wait, decision.releaseLease);
        if (n === undefined) throw lockLost('while putting it back');
        countPutBack(decision.wait);
        if (decision.pauseQueueMs !== undefined) {
          const paused = await pauseQueue(redis, keys, decision.pauseQueueMs);
          if (decision.wait === 'rate_limit') countRateLimitWait('429', paused / 1000);
          log.warn(
            { ...where(), wait: decision.wait, waits: n, pause_ms: paused },
            decision.wait === 'auth'
              ? 'the API refused the API key (401/403): pausing the queue; jobs run again once the key works'
              : 'rate limited by the API: pausing the queue',
          );
        } else {
          log.info(
            { ...where(), wait: decision.wait, waits: n, delay_ms: decision.delayMs },
            `job put back (${decision.wait})`,
          );
        }
        return putBack(job, token, decision);
      }
      case 'abandon':
        throw lockLost('during the call');
    }
  };
}

/** The wait a failed attempt asked for, fed into full-jitter backoff as its floor. */
export function retryAfterOf(err: unknown): number {
  return err instanceof SendmuxError ? (err.retryAfterMs ?? 0) : 0;
}
