/** How a run tells BullMQ to leave its job alone, or to put it back without using an attempt. */
import { DelayedError, RateLimitError } from 'bullmq';
import type { ActionJob } from './processor-types.js';

/**
 * A run that finds it no longer owns its job records nothing and leaves the job alone: the run
 * that owns it now finishes it. BullMQ's DelayedError is its "hands off" signal (the job is not
 * moved by this worker); the message says why in logs and traces.
 */
export function lockLost(why: string): DelayedError {
  return new DelayedError(
    `the run lost its job lock ${why}: not recording, leaving the job to its owner`,
  );
}

/** Put the job back without consuming an attempt (BullMQ's DelayedError / RateLimitError). */
export async function putBack(
  job: ActionJob,
  token: string | undefined,
  decision: { delayMs: number; pauseQueueMs?: number },
): Promise<never> {
  if (decision.pauseQueueMs !== undefined) throw new RateLimitError();
  await job.moveToDelayed(Date.now() + decision.delayMs, token);
  throw new DelayedError();
}
