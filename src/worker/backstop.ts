/**
 * The worker's failure backstop: the processor records every failure it decides on before
 * BullMQ moves the job; this covers the rest (an error thrown while recording on the last
 * attempt). It records only what is still unrecorded, so it never makes a second event; what it
 * cannot write is repaired at the next start (see repair.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { jobIntent } from '../queue/queue.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { SendmuxError } from '../sendmux/errors.js';
import type { Keys } from '../store/keys.js';
import { recordOutcome } from '../store/record-outcome.js';
import type { ActionJob } from './processor.js';

/** Tries of the failure backstop before it leaves the binding to the repair at next start. */
const BACKSTOP_TRIES = 4;

export interface FailureBackstop {
  /** Record `job`'s final failure in the background (tried again a few times). */
  record(job: ActionJob, err: Error): void;
  /** Resolves once every recording started so far has ended. */
  settled(): Promise<void>;
}

export function failureBackstop(deps: {
  store: Redis;
  keys: Keys;
  config: Config;
  log: Logger;
  /** Whether the worker is closing (then a failed write is not tried again). */
  closing: () => boolean;
}): FailureBackstop {
  const { store, keys, config, log } = deps;
  const pendingRecords = new Set<Promise<void>>();
  return {
    record(job, err) {
      const api = err instanceof SendmuxError ? err : undefined;
      const write = () =>
        recordOutcome(
          store,
          keys,
          config,
          {
            intent: jobIntent(job.data),
            seq: job.data.seq,
            jobId: job.id ?? '',
            attempts: job.attemptsMade,
            at: new Date(),
            outcome: 'failed',
            httpStatus: api?.status ?? null,
            errorCode:
              api?.code ?? (err instanceof UnrecoverableError ? 'worker_gave_up' : 'worker_error'),
            errorMessage: err.message,
            requestId: api?.requestId ?? null,
          },
          undefined,
        );
      const recording = (async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            await write();
            return;
          } catch (e) {
            if (attempt >= BACKSTOP_TRIES || deps.closing()) {
              log.error(
                { err: String(e), job_id: job.id },
                'could not record a failure: left to the repair at next start',
              );
              return;
            }
            await sleep(250 * 2 ** attempt);
          }
        }
      })().finally(() => pendingRecords.delete(recording));
      pendingRecords.add(recording);
    },
    async settled() {
      await Promise.allSettled(pendingRecords);
    },
  };
}

/** A failure BullMQ will not retry: the intent's last word. */
export function isFinalFailure(job: ActionJob, err: Error): boolean {
  return err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}
