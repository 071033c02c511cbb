/** The actions queue: one place for its name, prefix and default job options. */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Config } from '../config.js';
import { normalizeSource, type Intent } from '../model.js';
import { QUEUE_NAME, URGENT_QUEUE_NAME } from '../store/keys.js';
import { bullmqTelemetry } from '../telemetry/bullmq.js';

/**
 * What a job carries: the validated intent (with its `actor`, when it has one) and its
 * binding's sequence number (when it was enqueued is BullMQ's own `job.timestamp`). Kept small:
 * a bulk run holds 100k of them.
 */
export interface ActionJobData extends Intent {
  seq: number;
}

/**
 * A job's data as this version reads it. Jobs queued by an older version may still wait in
 * Redis: 0.1.x wrote the account as `providerId` and the window source as `maintenance`; jobs
 * queued before actors existed have no `actor` (their events say `actor: null`).
 */
export function jobIntent(data: ActionJobData): ActionJobData {
  const old = data as Omit<ActionJobData, 'accountId'> & {
    accountId?: string;
    providerId?: string;
  };
  const source = normalizeSource(data.source);
  if (old.accountId !== undefined && source === data.source) return data;
  const { providerId, ...rest } = old;
  return { ...rest, accountId: old.accountId ?? providerId ?? '', source };
}
/**
 * What a completed job returns (kept with the job while BullMQ keeps it): the intent's terminal
 * state, or `none` when this run found nothing to do (another run had recorded it already).
 */
export interface ActionJobResult {
  outcome: 'succeeded' | 'superseded' | 'none';
  status: string | null;
  request_id: string | null;
}

/** Name of the custom backoff strategy registered by the worker. */
export const BACKOFF_TYPE = 'sendmux-full-jitter';

export type ActionQueue = Queue<ActionJobData, ActionJobResult>;

export function createActionQueue(
  config: Pick<Config, 'prefix'>,
  connection: ConnectionOptions,
  name: string = QUEUE_NAME,
): ActionQueue {
  return new Queue<ActionJobData, ActionJobResult, string>(name, {
    connection,
    prefix: config.prefix,
    ...bullmqTelemetry(),
  });
}

/**
 * The urgent queue (store/keys.ts, URGENT_QUEUE_NAME): same jobs, same options, served with no
 * BullMQ limiter.
 */
export function createUrgentQueue(
  config: Pick<Config, 'prefix'>,
  connection: ConnectionOptions,
): ActionQueue {
  return createActionQueue(config, connection, URGENT_QUEUE_NAME);
}

/**
 * Whether an intent is urgent: the breaker's (a trip, and the activation after a reset or
 * cooldown). Its job goes to the urgent queue, and its run is not paced behind the others and
 * may use the rate budget's reserve (rate-budget.ts).
 */
export function isUrgentIntent(intent: Pick<ActionJobData, 'source'>): boolean {
  return intent.source === 'breaker';
}

export function jobOptions(
  config: Pick<
    Config,
    'maxAttempts' | 'keepCompletedJobs' | 'failedJobRetentionS' | 'keepFailedJobs'
  >,
  jobId: string,
): JobsOptions {
  return {
    jobId,
    attempts: config.maxAttempts,
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: { count: config.keepCompletedJobs },
    // Failed jobs stay for inspection, FAILED_JOB_RETENTION_S (BullMQ removes older ones as
    // later jobs fail) and at most KEEP_FAILED_JOBS: the outcome lives on in the binding (for
    // IDEMPOTENCY_TTL_S), the status and the `action.failed` event.
    removeOnFail: { age: config.failedJobRetentionS, count: config.keepFailedJobs },
  };
}
