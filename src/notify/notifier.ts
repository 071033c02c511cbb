/**
 * Failure webhooks (NOTIFY_URL): `action.failed`, `breaker.tripped` and the window events
 * (`window.started`, `window.ended`, `window.skipped`) POSTed as signed CloudEvents 1.0.
 *
 * Two parts, both in every `worker` process when NOTIFY_URL is set:
 * - the forwarder (forwarder.ts): the events stream -> consumer group `notify` -> one job per
 *   event on the BullMQ queue `notifications` (job id `ev-<stream id>`), then ack;
 * - the delivery worker (delivery.ts): POSTs each job, retried with exponential backoff.
 *
 * The action worker is never slowed: it writes its events to the stream as always, and a
 * receiver that hangs or fails only keeps notification jobs waiting. The format (source,
 * type, subject, headers) is described in cloudevent.ts.
 */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { createRedis } from '../redis/connect.js';
import { dropRedis } from '../shutdown.js';
import { keysFor } from '../store/keys.js';
import {
  createNotifyQueue,
  NOTIFY_BACKOFF_BASE_MS,
  NOTIFY_BACKOFF_CAP_MS,
  safeNotifyUrl,
  startDelivery,
  type Delivery,
  type NotifyQueue,
} from './delivery.js';
import { startForwarder, type Forwarder } from './forwarder.js';

export type NotifierConfig = Pick<
  Config,
  | 'redisUrl'
  | 'redisClusterNodes'
  | 'prefix'
  | 'notifyUrl'
  | 'notifySecret'
  | 'notifyMaxAttempts'
  | 'notifyTimeoutMs'
> &
  Partial<Pick<Config, 'shutdownTimeoutMs'>>;

/** Overrides for tests and library users; the defaults are the documented ones. */
export interface NotifierOptions {
  /** First retry delay; doubles per attempt. @defaultValue 1000 */
  backoffBaseMs?: number;
  /** Longest retry delay. @defaultValue 600000 (10 min) */
  backoffCapMs?: number;
  /** POSTs at once per process. @defaultValue 8 */
  concurrency?: number;
  /** Events another forwarder left unacknowledged this long are taken over. @defaultValue 60000 */
  claimIdleMs?: number;
  /** This forwarder's consumer name in the group. @defaultValue `<host>-<pid>-<random>` */
  consumer?: string;
  /** Forward events (the stream -> queue part). @defaultValue true */
  forward?: boolean;
  /** Deliver jobs (the POSTing part). @defaultValue true */
  deliver?: boolean;
  /** Gives up starting (waiting for Redis) when it aborts: the start rejects, nothing is left open. */
  signal?: AbortSignal;
}

export interface Notifier {
  /**
   * Stops forwarding, then waits for POSTs under way (each ends within NOTIFY_TIMEOUT_MS);
   * after `timeoutMs` (default `shutdownTimeoutMs`: SHUTDOWN_TIMEOUT_MS, else
   * NOTIFY_TIMEOUT_MS + 2 s) they are aborted (tried again later) and whatever still waits
   * for Redis is dropped.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** Whether `promise` settles within `ms` (it keeps running either way). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Start forwarding and delivering failure webhooks. Needs `notifyUrl` and `notifySecret`.
 * Resolves once the consumer group exists (every event written afterwards is sent) and the
 * delivery worker is ready.
 */
export async function startNotifier(
  config: NotifierConfig,
  logger: Logger,
  options: NotifierOptions = {},
): Promise<Notifier> {
  const url = config.notifyUrl;
  const secret = config.notifySecret;
  if (url === undefined || secret === undefined) {
    throw new Error('failure webhooks need NOTIFY_URL and NOTIFY_SECRET');
  }
  const log = logger.child({ component: 'notify' });
  const keys = keysFor(config.prefix);
  const connection = createRedis(config, { maxRetriesPerRequest: null }, logger);
  let reader: Redis | undefined;
  let queue: NotifyQueue | undefined;
  let starting: Promise<Forwarder> | undefined;
  let forwarder: Forwarder | undefined;
  let delivery: Delivery | undefined;

  const closeWithin = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(0, deadline - Date.now());
    const graceful = (async () => {
      await forwarder?.close();
      await delivery?.close();
    })().catch(() => undefined);
    let inTime = await within(graceful, Math.floor(timeoutMs * 0.8));
    if (!inTime) {
      delivery?.abortAll();
      inTime = await within(graceful, left());
    }
    const rest = Promise.allSettled([queue?.close(), reader?.quit(), connection.quit()]);
    if (!(inTime && (await within(rest, Math.max(left(), 100))))) {
      log.warn('failure webhooks closed without waiting for Redis');
    }
    // Whatever did not close in time: dropped, BullMQ's own duplicated connections included.
    await within(Promise.allSettled([delivery?.disconnect(), queue?.disconnect()]), 100);
    // Not disconnect(): after a QUIT it leaves a 2 s timer holding the process.
    if (reader) dropRedis(reader);
    dropRedis(connection);
  };
  const closeTimeoutMs = config.shutdownTimeoutMs ?? config.notifyTimeoutMs + 2_000;
  let closed: Promise<void> | undefined;
  const close = (timeoutMs = closeTimeoutMs) => (closed ??= closeWithin(timeoutMs));

  const { signal } = options;
  let onAbort: () => void = () => undefined;
  const stopped = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      reject(new Error('stopped before failure webhooks started'));
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  stopped.catch(() => undefined);
  const step = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, stopped]);

  try {
    if (options.deliver !== false) {
      delivery = startDelivery({
        url,
        secret,
        timeoutMs: config.notifyTimeoutMs,
        prefix: config.prefix,
        connection,
        logger,
        backoffCapMs: options.backoffCapMs ?? NOTIFY_BACKOFF_CAP_MS,
        concurrency: options.concurrency,
      });
      await step(delivery.waitUntilReady());
    }
    if (options.forward !== false) {
      queue = createNotifyQueue(config.prefix, connection);
      reader = createRedis(config, { maxRetriesPerRequest: null }, logger);
      starting = startForwarder({
        redis: reader,
        keys,
        queue,
        logger,
        attempts: config.notifyMaxAttempts,
        backoffBaseMs: options.backoffBaseMs ?? NOTIFY_BACKOFF_BASE_MS,
        consumer: options.consumer,
        claimIdleMs: options.claimIdleMs,
      });
      forwarder = await step(starting);
    }
  } catch (err) {
    // A forwarder that starts after all (its connection is dropped by now) stops at once.
    starting?.then((f) => f.close()).catch(() => undefined);
    await closeWithin(signal?.aborted ? 500 : closeTimeoutMs);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  log.info({ url: safeNotifyUrl(url), attempts: config.notifyMaxAttempts }, 'failure webhooks on');
  return { close };
}
