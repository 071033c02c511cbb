/**
 * The notifications queue and its worker: each job POSTs one CloudEvent to NOTIFY_URL.
 *
 * - 2xx: delivered.
 * - 408, 429, 5xx, a timeout (NOTIFY_TIMEOUT_MS) or a network error: tried again, NOTIFY_MAX_ATTEMPTS
 *   attempts in all, after `min(cap, base * 2^(n-1))` (base 1 s, cap 10 min; a 429's or 503's
 *   Retry-After is honoured up to the cap).
 * - any other answer (4xx, or a 3xx: redirects are not followed): a permanent failure, logged,
 *   never tried again (BullMQ's UnrecoverableError).
 *
 * Jobs carry the body as text, so a retry sends the very same bytes (same CloudEvent id); the
 * signature is computed at each send from the process's NOTIFY_SECRET, never stored. Finished
 * jobs are kept a while (see {@link NOTIFY_JOB_OPTIONS}): their ids dedupe a forwarder that
 * adds an event again (after a crash between add and ack, or a claim of a slow one's entries).
 */
import http from 'node:http';
import https from 'node:https';
import {
  Queue,
  UnrecoverableError,
  Worker,
  type ConnectionOptions,
  type Job,
  type JobsOptions,
} from 'bullmq';
import got, { RequestError } from 'got';
import type { Logger } from '../logger.js';
import { countNotification } from '../metrics/metrics.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { NOTIFY_QUEUE_NAME } from '../store/keys.js';
import { notifyHeaders } from './cloudevent.js';

export interface NotifyJobData {
  /** The CloudEvent's id (the stream entry id). */
  id: string;
  /** The event type (`action.failed`...), for logs. */
  type: string;
  /** The CloudEvent's subject, for logs. */
  subject: string;
  /** The CloudEvent as JSON: what is POSTed, byte for byte, on every attempt. */
  body: string;
}

export type NotifyQueue = Queue<NotifyJobData>;

/** The name of the custom backoff (see {@link notifyBackoff}). */
export const NOTIFY_BACKOFF_TYPE = 'notify-exponential';
export const NOTIFY_BACKOFF_BASE_MS = 1_000;
export const NOTIFY_BACKOFF_CAP_MS = 600_000;

/** Job id of an event's notification: derived from its stream entry id (BullMQ ids have no `:`). */
export function notifyJobId(streamId: string): string {
  return `ev-${streamId}`;
}

/** Options of every notification job; `attempts` and the backoff come from the settings. */
export const NOTIFY_JOB_OPTIONS: JobsOptions = {
  // Kept long enough to dedupe a re-add, and to inspect what failed.
  removeOnComplete: { age: 7 * 86_400, count: 10_000 },
  removeOnFail: { age: 30 * 86_400, count: 10_000 },
};

export function notifyJobOptions(attempts: number, backoffBaseMs: number): JobsOptions {
  return {
    ...NOTIFY_JOB_OPTIONS,
    attempts,
    backoff: { type: NOTIFY_BACKOFF_TYPE, delay: backoffBaseMs },
  };
}

export function createNotifyQueue(prefix: string, connection: ConnectionOptions): NotifyQueue {
  return new Queue<NotifyJobData>(NOTIFY_QUEUE_NAME, { connection, prefix });
}

/** A failed attempt worth trying again; `retryAfterMs` when the receiver said when. */
export class NotifyRetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'NotifyRetryableError';
  }
}

/**
 * The wait after the `attemptsMade`-th failed attempt (from 1): `min(cap, base * 2^(n-1))`,
 * never less than the receiver's Retry-After (itself capped).
 */
export function notifyBackoff(
  attemptsMade: number,
  baseMs: number,
  capMs: number,
  retryAfterMs = 0,
): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(attemptsMade - 1, 52)));
  return Math.min(capMs, Math.max(exp, Math.ceil(retryAfterMs)));
}

/** Retry-After in ms (seconds or an HTTP date); undefined when absent or unreadable. */
function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** What an answer's status means: delivered, permanent, or worth another attempt. */
export function classifyStatus(status: number): 'delivered' | 'retry' | 'permanent' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'permanent';
}

/** NOTIFY_URL without credentials or query, for logs. */
export function safeNotifyUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

export interface DeliveryOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  prefix: string;
  /** Shared with the queue; BullMQ duplicates it for its blocking reads. */
  connection: Redis;
  logger: Logger;
  /** Backoff cap (the base is each job's own `backoff.delay`). @defaultValue 10 min */
  backoffCapMs?: number;
  /** POSTs at once per process. @defaultValue 8 */
  concurrency?: number;
}

export interface Delivery {
  waitUntilReady(): Promise<void>;
  /** Stops taking jobs; waits for POSTs under way (each ends within NOTIFY_TIMEOUT_MS). */
  close(): Promise<void>;
  /** Aborts the POSTs under way: each fails this attempt and is tried again later. */
  abortAll(): void;
  /** Drops BullMQ's connections (after a close that did not finish in time). */
  disconnect(): Promise<void>;
}

/** The worker that POSTs the notifications queue's jobs. */
export function startDelivery(options: DeliveryOptions): Delivery {
  const log = options.logger.child({ component: 'notify', url: safeNotifyUrl(options.url) });
  const capMs = options.backoffCapMs ?? NOTIFY_BACKOFF_CAP_MS;
  const agentOptions = { keepAlive: true, maxSockets: 64 };
  const agent = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const post = got.extend({
    method: 'POST',
    agent,
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    timeout: { request: options.timeoutMs },
    responseType: 'text',
  });

  async function deliver(
    job: Job<NotifyJobData>,
    _token?: string,
    signal?: AbortSignal,
  ): Promise<number> {
    const { id, body } = job.data;
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    const what = { job_id: job.id, event_id: id, type: job.data.type, subject: job.data.subject };
    let status: number;
    let retryAfter: number | undefined;
    try {
      const res = await post(options.url, {
        body,
        headers: notifyHeaders(options.secret, id, body),
        signal,
      });
      status = res.statusCode;
      retryAfter = retryAfterMs(res.headers['retry-after']);
    } catch (err) {
      const code = err instanceof RequestError ? err.code : undefined;
      const message = err instanceof Error ? err.message : String(err);
      countNotification(attempt < attempts ? 'retried' : 'dropped');
      log.warn(
        { ...what, attempt, attempts, err: message, code },
        attempt < attempts
          ? 'failure webhook not delivered; tried again'
          : 'failure webhook dropped',
      );
      throw new NotifyRetryableError(`POST failed: ${code ?? message}`);
    }
    const verdict = classifyStatus(status);
    if (verdict === 'delivered') {
      countNotification('delivered');
      log.debug({ ...what, attempt, status }, 'failure webhook delivered');
      return status;
    }
    if (verdict === 'permanent') {
      countNotification('refused');
      log.error(
        { ...what, attempt, status },
        'failure webhook refused by the receiver; not tried again',
      );
      throw new UnrecoverableError(`receiver answered ${status}`);
    }
    countNotification(attempt < attempts ? 'retried' : 'dropped');
    log.warn(
      { ...what, attempt, attempts, status, retry_after_ms: retryAfter },
      attempt < attempts ? 'failure webhook not delivered; tried again' : 'failure webhook dropped',
    );
    throw new NotifyRetryableError(`receiver answered ${status}`, retryAfter);
  }

  const worker = new Worker<NotifyJobData, number>(NOTIFY_QUEUE_NAME, deliver, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 8,
    settings: {
      backoffStrategy: (attemptsMade, _type, err, job) => {
        const backoff = job?.opts.backoff;
        const base =
          typeof backoff === 'object' && backoff.delay !== undefined
            ? backoff.delay
            : NOTIFY_BACKOFF_BASE_MS;
        const asked = err instanceof NotifyRetryableError ? err.retryAfterMs : undefined;
        return notifyBackoff(attemptsMade, base, capMs, asked);
      },
    },
  });
  worker.on('error', (err) => {
    // Connection problems are logged by the connection itself (once, then at intervals).
    if (options.connection.status !== 'ready') return;
    log.error({ err: err.message }, 'notifications worker error');
  });

  return {
    waitUntilReady: () => worker.waitUntilReady(),
    abortAll() {
      worker.cancelAllJobs('shutting down');
    },
    disconnect: () => worker.disconnect(),
    async close() {
      try {
        await worker.close();
      } finally {
        agent.http.destroy();
        agent.https.destroy();
      }
    },
  };
}
