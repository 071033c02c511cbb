/**
 * What a worker does with one job: call the API with the intent's idempotency key, record
 * the outcome, and decide how a failure is retried. Knows nothing of HTTP routes or the CLI.
 */
import { DelayedError, RateLimitError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../logger.js';
import { SendmuxError, type SendmuxClient } from '../sendmux/index.js';
import { failureOf, recordOutcome } from '../status/record-outcome.js';
import { backoffDelay, rateLimitPause } from './backoff.js';
import type { ActionJobData, ActionJobResult } from './queue.js';

export type ProcessorConfig = Pick<
  Config,
  | 'maxAttempts'
  | 'backoffBaseMs'
  | 'backoffCapMs'
  | 'inFlightMaxWaits'
  | 'rateLimitMaxWaitMs'
  | 'rateLimitMaxWaits'
  | 'rateLimitLowWatermark'
  | 'idempotencyTtlS'
  | 'eventsMaxLen'
>;

export interface ProcessorDeps {
  client: SendmuxClient;
  redis: Redis;
  keys: Keys;
  config: ProcessorConfig;
  log: Logger;
  /** Pause the whole queue (every worker process) for `ms`. */
  pauseQueue(ms: number): Promise<void>;
  /** Aborted when the worker must stop at once; an aborted call is neither a success nor a failure. */
  signal?: AbortSignal;
  now?: () => Date;
}

export type ActionJob = Job<ActionJobData, ActionJobResult>;

export function createProcessor(
  deps: ProcessorDeps,
): (job: ActionJob, token?: string) => Promise<ActionJobResult> {
  const { client, redis, keys, config } = deps;
  const now = deps.now ?? (() => new Date());

  return async function processAction(job, token) {
    const intent = job.data;
    const jobId = job.id ?? '';
    const attempt = job.attemptsMade + 1;
    const log = deps.log.child({
      job_id: jobId,
      provider_id: intent.providerId,
      idempotency_key: intent.idempotencyKey,
      action: intent.action,
      attempt,
    });
    const fail = async (err: SendmuxError) => {
      const written = await recordOutcome(
        redis,
        keys,
        config,
        failureOf({ intent, jobId, attempts: attempt, at: now() }, err),
      );
      log.error(
        {
          request_id: err.requestId,
          http_status: err.status,
          error_code: err.code,
          event_emitted: written,
        },
        `${intent.action} failed: ${err.message}`,
      );
    };

    let result;
    try {
      result = await client.runAction(intent.action, intent.providerId, {
        idempotencyKey: intent.idempotencyKey,
        signal: deps.signal,
      });
    } catch (caught) {
      if (deps.signal?.aborted) {
        throw new Error('worker shut down during the call; the job will be re-run', {
          cause: caught,
        });
      }
      if (!(caught instanceof SendmuxError)) throw caught; // not an API answer: let BullMQ retry
      const err = caught;
      if (err.kind === 'permanent') {
        await fail(err);
        throw new UnrecoverableError(`${err.code}: ${err.message}`);
      }
      // Put-backs (rate limit, in flight) do not consume attempts; this counts them (and stalls).
      const putBacks = job.attemptsStarted - job.attemptsMade - 1;
      if (err.kind === 'rate_limited') {
        if (putBacks >= config.rateLimitMaxWaits) {
          await fail(err);
          throw new UnrecoverableError(`rate limited ${putBacks} times: ${err.message}`);
        }
        const pause = rateLimitPause(err.retryAfterMs, config.rateLimitMaxWaitMs);
        log.warn(
          { request_id: err.requestId, pause_ms: pause },
          'rate limited by the API: pausing the queue',
        );
        await deps.pauseQueue(pause);
        throw new RateLimitError();
      }
      if (err.kind === 'in_flight') {
        // Our own call with this key is still running at the API: it is not a failure, and
        // giving up would record one for an operation that may well succeed. Check again later
        // without consuming an attempt, a bounded number of times.
        if (putBacks >= config.inFlightMaxWaits) {
          await fail(err);
          throw new UnrecoverableError(`still in flight after ${putBacks} waits: ${err.message}`);
        }
        const wait = backoffDelay(
          putBacks + 1,
          { baseMs: config.backoffBaseMs, capMs: config.backoffCapMs },
          Math.max(err.retryAfterMs ?? 0, config.backoffBaseMs),
        );
        log.info(
          { request_id: err.requestId, wait_ms: wait },
          'call still in flight at the API: checking again later',
        );
        await job.moveToDelayed(Date.now() + wait, token);
        throw new DelayedError();
      }
      // transient: retry with backoff unless this was the last attempt.
      if (attempt >= config.maxAttempts) {
        await fail(err);
        throw new UnrecoverableError(
          `attempts exhausted (${attempt}): ${err.code}: ${err.message}`,
        );
      }
      log.warn(
        {
          request_id: err.requestId,
          http_status: err.status,
          error_code: err.code,
          kind: err.kind,
        },
        `${intent.action} will be retried: ${err.message}`,
      );
      throw err;
    }

    const account = result.data;
    await recordOutcome(redis, keys, config, {
      outcome: 'succeeded',
      intent,
      jobId,
      attempts: attempt,
      at: now(),
      account,
      requestId: result.requestId,
      httpStatus: result.status,
    });
    log.info(
      { request_id: result.requestId, status: account.status },
      `${intent.action} succeeded`,
    );

    // Slow down before the API says 429.
    const rl = result.rateLimit;
    if (rl && rl.remaining <= config.rateLimitLowWatermark) {
      const untilReset = rl.resetAtMs - now().getTime();
      if (untilReset > 0) {
        const pause = Math.min(untilReset, config.rateLimitMaxWaitMs);
        log.info(
          { remaining: rl.remaining, pause_ms: pause },
          'rate budget running low: pausing the queue until reset',
        );
        await deps.pauseQueue(pause);
      }
    }
    return { status: account.status, is_active: account.is_active, request_id: result.requestId };
  };
}

/** The wait a failed attempt asked for, fed into full-jitter backoff as its floor. */
export function retryAfterOf(err: unknown): number {
  return err instanceof SendmuxError ? (err.retryAfterMs ?? 0) : 0;
}
