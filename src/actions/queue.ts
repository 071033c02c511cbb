/** The actions queue: one place for its name, prefix and default job options. */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Config } from '../config.js';
import { QUEUE_NAME } from '../keys.js';
import type { Intent } from './intent.js';

/** What a job carries: the validated intent and when it was enqueued. */
export interface ActionJobData extends Intent {
  enqueuedAt: string;
}
/** What a completed job returns (kept with the job while BullMQ keeps it). */
export interface ActionJobResult {
  status: string;
  is_active: boolean;
  request_id: string;
}

/** Name of the custom backoff strategy registered by the worker. */
export const BACKOFF_TYPE = 'sendmux-full-jitter';

export type ActionQueue = Queue<ActionJobData, ActionJobResult>;

export function createActionQueue(
  config: Pick<Config, 'prefix'>,
  connection: ConnectionOptions,
): ActionQueue {
  return new Queue<ActionJobData, ActionJobResult, string>(QUEUE_NAME, {
    connection,
    prefix: config.prefix,
  });
}

export function jobOptions(
  config: Pick<Config, 'maxAttempts' | 'keepCompletedJobs'>,
  jobId: string,
): JobsOptions {
  return {
    jobId,
    attempts: config.maxAttempts,
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: { count: config.keepCompletedJobs },
    // Failed jobs stay for inspection.
    removeOnFail: false,
  };
}
