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
import { createRedis } from '../redis.js';
import { WINDOW_QUEUE_NAME } from '../store/keys.js';
import { bullmqTelemetry } from '../telemetry/bullmq.js';
import { openWindows, type WindowsHandle } from './windows.js';

export interface WindowService {
  windows: WindowsHandle;
  close(): Promise<void>;
}

export async function startWindowService(
  config: Config,
  logger: Logger,
  options: { concurrency?: number } = {},
): Promise<WindowService> {
  const log = logger.child({ component: 'windows' });
  // Stopping aborts a start still reading its accounts (rate budget waits, retries): the
  // step fails and runs again later (it is idempotent), so a stop never waits for it.
  const stopping = new AbortController();
  const windows = openWindows(config, log, stopping.signal);
  const fixed = await windows.reconcile();
  if (fixed > 0) log.warn({ fixed }, 'put back window schedules a restart had lost');
  const connection = createRedis(config.redisUrl, { maxRetriesPerRequest: null }, logger);
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
  await worker.waitUntilReady();
  return {
    windows,
    async close() {
      stopping.abort();
      await worker.close();
      await windows.close();
      await connection.quit().catch(() => undefined);
    },
  };
}
