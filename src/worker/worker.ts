/**
 * Worker wiring: two BullMQ workers running the processor, one on the actions queue (with the
 * BullMQ limiter: SENDMUX_RATE_LIMIT) and one on the urgent queue (the breaker's intents, no
 * BullMQ limiter: they never wait for its slot; begin-run holds them during a pause), with the
 * shared rate budget,
 * full-jitter backoff, crash recovery (stalled jobs re-run with the same key), lost-lock
 * handling, a failure backstop, the repair of stuck bindings at start, and a close that
 * returns within its timeout whatever Redis does. The failure backstop is in backstop.ts, the
 * retention sweep in retention-sweep.ts.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { requireApiKey, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import {
  createActionQueue,
  createUrgentQueue,
  type ActionJobData,
  type ActionJobResult,
} from '../queue/queue.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { checkEvictionPolicy, createRedis } from '../redis/connect.js';
import { createSendmuxClient, type SendmuxClient } from '../sendmux/client.js';
import { dropRedis } from '../shutdown.js';
import { keysFor, QUEUE_NAME, URGENT_QUEUE_NAME } from '../store/keys.js';
import { bullmqTelemetry } from '../telemetry/bullmq.js';
import { backoffDelay, limiterFor } from './backoff.js';
import { failureBackstop, isFinalFailure } from './backstop.js';
import {
  ABORT_LOCK_LOST,
  ABORT_SHUTDOWN,
  createProcessor,
  retryAfterOf,
  type ActionJob,
} from './processor.js';
import { repairStuckBindings } from './repair.js';
import { retentionSweeper } from './retention-sweep.js';

export interface StartWorkerOptions {
  config: Config;
  logger: Logger;
  /** Defaults to a client built from the config (needs SENDMUX_API_KEY). */
  client?: SendmuxClient;
  /** Start taking jobs at once. @defaultValue true */
  autorun?: boolean;
  /** Repair bindings left queued by a lost failure at start. @defaultValue true */
  repair?: boolean;
  /** Run the retention sweep every RETENTION_SWEEP_S (store/retention.ts). @defaultValue true */
  retention?: boolean;
}

export type ActionBullWorker = Worker<ActionJobData, ActionJobResult>;

export interface ActionWorker {
  /** The actions queue's worker (BullMQ limiter: SENDMUX_RATE_LIMIT). */
  readonly worker: ActionBullWorker;
  /** The urgent queue's worker (the breaker's intents; no BullMQ limiter). */
  readonly urgentWorker: ActionBullWorker;
  /** Resolves once connected and (with autorun) taking jobs. */
  waitUntilReady(): Promise<void>;
  /**
   * Stop taking jobs and let in-flight calls finish; when `timeoutMs` runs short, abort them
   * (their jobs go back to the queue without using an attempt) and close the connections.
   * Returns within `timeoutMs` (plus a few ms), even when Redis does not answer.
   */
  close(timeoutMs?: number): Promise<{ forced: boolean }>;
}

/** Stalls a job may survive; crash loops are bounded by the processor (CRASH_ALLOWANCE). */
const MAX_STALLS = 1_000;
/** Part of the shutdown timeout kept for aborting calls and closing connections. */
const ABORT_SHARE = 0.2;
/** How often close() says it is still waiting for Redis. */
const WAITING_LOG_MS = 2_000;
/** How often the worker logs what it did (successes are not logged one by one). */
const SUMMARY_EVERY_MS = 10_000;

/**
 * Start a worker. Resolves at once, without waiting for Redis (use `waitUntilReady`), so a
 * worker started while Redis is down still answers `close()`.
 */
export function startWorker(options: StartWorkerOptions): Promise<ActionWorker> {
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
  // (ioredis auto-pipelining on this connection was measured: no gain within the noise.)
  const store: Redis = createRedis(config, {}, log);
  const bullConnection: Redis = createRedis(config, {}, log);
  // Not awaited: a worker started while Redis is down must still answer SIGTERM.
  void checkEvictionPolicy(store, log);

  const control = createActionQueue(config, store);
  control.on('error', () => undefined); // the store connection already logs its errors
  const urgentControl = createUrgentQueue(config, store);
  urgentControl.on('error', () => undefined);
  const processor = createProcessor({ client, redis: store, keys, config, log });

  // Both workers share one connection (BullMQ gives each its own blocking one).
  const bullWorker = (name: string, limited: boolean): ActionBullWorker =>
    new Worker<ActionJobData, ActionJobResult, string>(name, processor, {
      connection: bullConnection,
      prefix: config.prefix,
      name: `${hostname()}:${process.pid}`,
      autorun: options.autorun ?? true,
      concurrency: config.concurrency,
      ...(limited ? { limiter: limiterFor(config.rateLimitPerMinute) } : {}),
      lockDuration: config.lockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      maxStalledCount: MAX_STALLS,
      ...bullmqTelemetry(),
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          backoffDelay(
            attemptsMade,
            { baseMs: config.backoffBaseMs, capMs: config.backoffCapMs },
            retryAfterOf(err),
          ),
      },
    });
  const worker = bullWorker(QUEUE_NAME, true);
  const urgentWorker = bullWorker(URGENT_QUEUE_NAME, false);
  const workers = [worker, urgentWorker];

  // A run whose lock could not be renewed may already have been handed to another worker:
  // abort its call; it records nothing (the outcome script checks the lock too).
  for (const w of workers) {
    w.on('lockRenewalFailed', (jobIds: string[]) => {
      for (const id of jobIds) {
        log.warn(
          { job_id: id, queue: w.name },
          'lost the lock of a running job: aborting its call, not recording',
        );
        w.cancelJob(id, ABORT_LOCK_LOST);
      }
    });
  }

  // The processor records every failure it decides on; the backstop (backstop.ts) the rest.
  let closing = false;
  const backstop = failureBackstop({ store, keys, config, log, closing: () => closing });
  // What the worker did, logged at intervals instead of one line per success.
  const tally = { succeeded: 0, superseded: 0, failed: 0, none: 0 };
  for (const w of workers) {
    w.on('failed', (job: ActionJob | undefined, err: Error) => {
      if (!job || !isFinalFailure(job, err)) return;
      tally.failed++;
      backstop.record(job, err);
    });
    w.on('completed', (_job: ActionJob, result: ActionJobResult) => {
      tally[result.outcome]++;
    });
  }
  const summary = setInterval(() => {
    if (tally.succeeded + tally.superseded + tally.failed + tally.none === 0) return;
    log.info({ ...tally, interval_ms: SUMMARY_EVERY_MS }, 'jobs finished');
    tally.succeeded = tally.superseded = tally.failed = tally.none = 0;
  }, SUMMARY_EVERY_MS);
  summary.unref();

  for (const w of workers) {
    w.on('error', (err) => {
      // A failed lock renewal is reported (and handled) by the lockRenewalFailed listener
      // above; connection problems by the connections themselves (once, then at intervals).
      if (err.message.startsWith('could not renew lock')) return;
      if (store.status !== 'ready' || bullConnection.status !== 'ready') return;
      log.error({ err: err.message, queue: w.name }, 'worker error');
    });
  }

  log.info(
    {
      queue: QUEUE_NAME,
      urgent_queue: URGENT_QUEUE_NAME,
      prefix: config.prefix,
      concurrency: config.concurrency,
      rate_limit_per_minute: config.rateLimitPerMinute,
      base_url: config.baseUrl,
    },
    'worker started',
  );

  const repairing =
    options.repair === false
      ? Promise.resolve()
      : worker
          .waitUntilReady()
          .then(() =>
            repairStuckBindings({
              redis: store,
              queue: control,
              urgentQueue: urgentControl,
              keys,
              config,
              log,
            }),
          )
          .then((n) => {
            if (n.repaired > 0) log.warn(n, 'repaired intents left without an outcome');
          })
          .catch((e: unknown) => {
            if (!closing) log.error({ err: String(e) }, 'repair of stuck intents failed');
          });

  // The retention sweep (retention-sweep.ts): one worker per RETENTION_SWEEP_S.
  const sweeper = retentionSweeper({ store, keys, config, log, closing: () => closing });
  const retention =
    options.retention === false
      ? undefined
      : setInterval(sweeper.sweep, config.retentionSweepS * 1000);
  retention?.unref();

  let closed: Promise<{ forced: boolean }> | undefined;
  return Promise.resolve({
    worker,
    urgentWorker,
    async waitUntilReady() {
      await Promise.all(workers.map((w) => w.waitUntilReady()));
    },
    close(timeoutMs = config.shutdownTimeoutMs) {
      closed ??= (async () => {
        closing = true;
        clearInterval(summary);
        clearInterval(retention);
        const deadline = Date.now() + timeoutMs;
        const left = () => Math.max(0, deadline - Date.now());
        log.info({ timeout_ms: timeoutMs }, 'worker closing: finishing in-flight jobs');
        const waiting = setInterval(() => {
          if (store.status !== 'ready' || bullConnection.status !== 'ready') {
            log.warn({ redis: store.status }, 'closing: still waiting for Redis');
          }
        }, WAITING_LOG_MS);
        try {
          const graceful = Promise.allSettled(workers.map((w) => w.close()));
          let forced = !(await within(graceful, timeoutMs * (1 - ABORT_SHARE)));
          if (forced) {
            // The calls still running are aborted; each puts its job back without using an
            // attempt, and the re-run asks the API again with the same key.
            log.warn(
              'in-flight calls did not finish in time: aborting them; their jobs will run again',
            );
            for (const w of workers) w.cancelAllJobs(ABORT_SHUTDOWN);
            if (!(await within(graceful, left()))) log.warn('closing without waiting for Redis');
          }
          const rest = async () => {
            await backstop.settled();
            await repairing;
            await sweeper.current();
            await Promise.all([control.close(), urgentControl.close()]);
            await Promise.allSettled([store.quit(), bullConnection.quit()]);
          };
          if (!(await within(rest(), left()))) forced = true;
          if (ownClient) client.close();
          // Whatever did not close in time (Redis unreachable): drop it, BullMQ's own
          // duplicated connections included, so nothing keeps the process alive.
          await within(
            Promise.allSettled([
              ...workers.map((w) => w.disconnect()),
              control.disconnect(),
              urgentControl.disconnect(),
            ]),
            100,
          );
          // dropRedis, not disconnect(): on a connection QUIT already ended, disconnect() starts
          // a 2 s timer that holds the process; on one still waiting, it rejects nothing.
          dropRedis(store);
          dropRedis(bullConnection);
          log.info({ forced }, 'worker closed');
          return { forced };
        } finally {
          clearInterval(waiting);
        }
      })();
      return closed;
    },
  });
}

/** Whether `promise` settles within `ms` (it keeps running either way). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([
    settled,
    sleep(ms, false, { signal: timer.signal }).catch(() => false),
  ]);
  timer.abort();
  return result;
}
