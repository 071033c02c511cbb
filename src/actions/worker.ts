/**
 * Worker wiring: a BullMQ worker running the action processor, with the shared rate budget,
 * full-jitter backoff, crash recovery (stalled jobs re-run with the same key) and a bounded
 * graceful close.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { requireApiKey, type Config } from '../config.js';
import { keysFor, QUEUE_NAME } from '../keys.js';
import type { Logger } from '../logger.js';
import { checkEvictionPolicy, createRedis } from '../redis.js';
import { createSendmuxClient, type SendmuxClient } from '../sendmux/index.js';
import { failureOf, recordOutcome } from '../status/record-outcome.js';
import { backoffDelay, limiterFor } from './backoff.js';
import { createProcessor, retryAfterOf, type ActionJob } from './processor.js';
import { createActionQueue, type ActionJobData, type ActionJobResult } from './queue.js';

export interface StartWorkerOptions {
  config: Config;
  logger: Logger;
  /** Defaults to a client built from the config (needs SENDMUX_API_KEY). */
  client?: SendmuxClient;
  /** Start taking jobs at once. @defaultValue true */
  autorun?: boolean;
}

export interface ActionWorker {
  readonly worker: Worker<ActionJobData, ActionJobResult>;
  /** Resolves once connected and (with autorun) taking jobs. */
  waitUntilReady(): Promise<void>;
  /**
   * Stop taking jobs, let in-flight calls finish for up to `timeoutMs` (then abandon them to
   * the stalled-job check, which re-runs them with the same key), and close connections.
   */
  close(timeoutMs?: number): Promise<{ forced: boolean }>;
}

/** Stalls a job may survive; crash loops are bounded by `maxStartedAttempts` instead. */
const MAX_STALLS = 1_000;
/** Extra starts allowed beyond attempts and put-backs (rate limit, in flight), for crashes. */
const CRASH_ALLOWANCE = 10;

export async function startWorker(options: StartWorkerOptions): Promise<ActionWorker> {
  const { config, logger } = options;
  const log = logger.child({ component: 'worker' });
  const ownClient = options.client === undefined;
  const client =
    options.client ??
    createSendmuxClient({
      baseUrl: config.baseUrl,
      apiKey: requireApiKey(config),
      timeoutMs: config.timeoutMs,
      maxSockets: Math.max(16, config.concurrency * 2),
    });
  const keys = keysFor(config.prefix);
  const store: Redis = createRedis(config.redisUrl, {}, log);
  const bullConnection: Redis = createRedis(config.redisUrl, {}, log);
  await checkEvictionPolicy(store, log);

  const control = createActionQueue(config, store);
  control.on('error', () => undefined); // the store connection already logs its errors
  // Aborts in-flight calls when a graceful close runs out of time.
  const shutdown = new AbortController();
  // Every in-flight call listens on it: up to `concurrency` listeners is expected.
  setMaxListeners(0, shutdown.signal);
  const processor = createProcessor({
    client,
    signal: shutdown.signal,
    redis: store,
    keys,
    config,
    log,
    // Sets the queue's limiter key in Redis: every worker process stops taking jobs.
    pauseQueue: (ms) => control.rateLimit(ms),
  });

  const worker = new Worker<ActionJobData, ActionJobResult, string>(QUEUE_NAME, processor, {
    connection: bullConnection,
    prefix: config.prefix,
    name: `${hostname()}:${process.pid}`,
    autorun: options.autorun ?? true,
    concurrency: config.concurrency,
    limiter: limiterFor(config.rateLimitPerMinute),
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: MAX_STALLS,
    maxStartedAttempts:
      config.maxAttempts + config.rateLimitMaxWaits + config.inFlightMaxWaits + CRASH_ALLOWANCE,
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
        backoffDelay(
          attemptsMade,
          { baseMs: config.backoffBaseMs, capMs: config.backoffCapMs },
          retryAfterOf(err),
        ),
    },
  });

  // Failures the processor did not record itself (an unexpected error exhausting attempts,
  // a job started too often after crashes) still get their one `action.failed` event;
  // recordOutcome is idempotent, so failures already recorded are not emitted twice.
  // Recordings started by the listener; close() waits for them before closing Redis.
  const pendingRecords = new Set<Promise<void>>();
  worker.on('failed', (job: ActionJob | undefined, err: Error) => {
    if (!job) return;
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    const base = {
      intent: job.data,
      jobId: job.id ?? '',
      attempts: job.attemptsMade,
      at: new Date(),
    };
    const fallbackCode = err instanceof UnrecoverableError ? 'worker_gave_up' : 'worker_error';
    const recording = recordOutcome(store, keys, config, failureOf(base, err, fallbackCode))
      .then(() => undefined)
      .catch((e: unknown) => {
        log.error({ err: String(e), job_id: job.id }, 'could not record a failure');
      })
      .finally(() => pendingRecords.delete(recording));
    pendingRecords.add(recording);
  });
  worker.on('error', (err) => {
    log.error({ err: err.message }, 'worker error');
  });

  log.info(
    {
      queue: QUEUE_NAME,
      prefix: config.prefix,
      concurrency: config.concurrency,
      rate_limit_per_minute: config.rateLimitPerMinute,
      base_url: config.baseUrl,
    },
    'worker started',
  );

  let closed: Promise<{ forced: boolean }> | undefined;
  return {
    worker,
    async waitUntilReady() {
      await worker.waitUntilReady();
    },
    close(timeoutMs = config.shutdownTimeoutMs) {
      closed ??= (async () => {
        log.info({ timeout_ms: timeoutMs }, 'worker closing: finishing in-flight jobs');
        const graceful = worker.close();
        const timer = new AbortController();
        const winner = await Promise.race([
          graceful.then(() => 'closed' as const),
          sleep(timeoutMs, 'timeout' as const, { signal: timer.signal }),
        ]);
        timer.abort();
        const forced = winner === 'timeout';
        if (forced) {
          // The jobs stay active in Redis; the stalled-job check re-runs them with the same key.
          log.warn(
            'in-flight calls did not finish in time: aborting them; their jobs will be re-run',
          );
          shutdown.abort();
          await graceful;
        }
        await Promise.allSettled(pendingRecords);
        if (ownClient) client.close();
        await control.close();
        await Promise.allSettled([store.quit(), bullConnection.quit()]);
        log.info({ forced }, 'worker closed');
        return { forced };
      })();
      return closed;
    },
  };
}
