/**
 * The long-running part of maintenance windows: a BullMQ worker on the windows queue that runs
 * each occurrence's start and end when they fall due. Every `worker` process runs one (unless
 * WINDOW_CONCURRENCY=0); BullMQ gives each due job to one of them, and the steps are
 * idempotent for what slips past (a stalled job run again, a scheduler's duplicate). At start
 * it puts back what a lost schedule needs (reconcile).
 */
import { Worker, type Job } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { countWindowTransition } from '../metrics/metrics.js';
import { occurrenceStart, type WindowJobData } from '../queue/window-queue.js';
import { createRedis } from '../redis/connect.js';
import { deadline, dropRedis, quitWithin, firstStep, unlessAborted, within } from '../shutdown.js';
import { WINDOW_QUEUE_NAME } from '../store/keys.js';
import { bullmqTelemetry } from '../telemetry/bullmq.js';
import { openWindows, type WindowsHandle } from './windows.js';

export interface WindowService {
  windows: WindowsHandle;
  /**
   * Stop within `timeoutMs` (default SHUTDOWN_TIMEOUT_MS) whatever Redis does: a step under
   * way is aborted (it runs again later). Resolves with whether everything closed in time (else
   * a connection BullMQ duplicated may still be open: the caller's process should exit).
   */
  close(timeoutMs?: number): Promise<boolean>;
}

export async function startWindowService(
  config: Config,
  logger: Logger,
  options: {
    concurrency?: number;
    /**
     * With a signal, start-up waits for Redis (tried again every second) until it answers or
     * the signal aborts (the start then rejects with an AbortError, nothing left open).
     */
    signal?: AbortSignal;
  } = {},
): Promise<WindowService> {
  const log = logger.child({ component: 'windows' });
  // Stopping aborts a start still reading its accounts (rate budget waits, retries): the
  // step fails and runs again later (it is idempotent), so a stop never waits for it.
  const stopping = new AbortController();
  const windows = openWindows(config, log, stopping.signal);
  let fixed: number;
  try {
    fixed = await firstStep(() => windows.reconcile(), options.signal, log, 'windows');
  } catch (err) {
    stopping.abort();
    await windows.close(0);
    throw err;
  }
  if (fixed > 0) log.warn({ fixed }, 'put back window schedules a restart had lost');
  const connection = createRedis(config, { maxRetriesPerRequest: null }, logger);
  const worker = new Worker<WindowJobData>(
    WINDOW_QUEUE_NAME,
    async (job: Job<WindowJobData>) => {
      const data = job.data;
      if (data.step === 'end') {
        const r = await windows.end(data.windowId, data.occurrence);
        if (r.result === 'ended') {
          countWindowTransition('ended');
          const e = r.event;
          log.info(
            {
              window_id: e.window_id,
              occurrence: e.occurrence,
              reactivated: e.reactivated.length,
              still_held: e.still_held.length,
              stayed_off: e.stayed_off.length,
            },
            'window ended',
          );
        }
        return r.result;
      }
      const r = await windows.start(data.windowId, occurrenceStart(job));
      if (r.result === 'started') {
        countWindowTransition('started');
        const e = r.event;
        log.info(
          {
            window_id: e.window_id,
            occurrence: e.occurrence,
            switched_off: e.switched_off.length,
            already_off: e.already_off.length,
            missing: e.missing.length,
            late_ms: e.late_ms,
          },
          'window started',
        );
      } else if (r.result === 'skipped') {
        // Counted once: a skip already recorded (another run) has no event.
        if (r.event) countWindowTransition('skipped');
        log.warn({ window_id: data.windowId, event: r.event }, 'window occurrence skipped');
      }
      return r.result;
    },
    {
      connection,
      prefix: config.prefix,
      concurrency: options.concurrency ?? config.windowConcurrency,
      ...bullmqTelemetry(),
    },
  );
  worker.on('failed', (job, err) => {
    log.error(
      { job_id: job?.id, attempts: job?.attemptsMade, err: err.message },
      'window step failed; tried again in 5 s',
    );
  });
  worker.on('error', (err) => {
    log.error({ err: err.message }, 'windows worker error');
  });
  try {
    await unlessAborted(worker.waitUntilReady(), options.signal);
  } catch (err) {
    stopping.abort();
    await within(worker.close(true), 0);
    dropRedis(connection);
    await windows.close(0);
    throw err;
  }
  return {
    windows,
    async close(timeoutMs = config.shutdownTimeoutMs) {
      const left = deadline(timeoutMs);
      stopping.abort();
      // The steps under way end at once (aborted); BullMQ's close waits for Redis.
      let inTime = await within(worker.close(), left());
      if (!inTime) await within(worker.close(true), 0);
      await windows.close(left());
      inTime = (await quitWithin(connection, left())) && inTime;
      return inTime;
    },
  };
}
