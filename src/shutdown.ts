/**
 * Stopping within a time limit, whatever Redis does (issue 18): up, down (connection refused,
 * ioredis waiting to reconnect) or frozen (connected, never answering). Every close on a stop
 * path that waits for Redis goes through these, so no `await` there can outlive its budget.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, type Redis } from 'ioredis';
import type { Logger } from './logger.js';

/** ioredis's own message for commands rejected by a closed connection. */
const CLOSED = 'Connection is closed.';

/** Whether `work` settles (either way) within `ms`; it keeps running when it does not. */
export async function within(work: PromiseLike<unknown> | undefined, ms: number): Promise<boolean> {
  if (work === undefined) return true;
  const timer = new AbortController();
  const settled = Promise.resolve(work).then(
    () => true,
    () => true,
  );
  const result = await Promise.race([
    settled,
    sleep(Math.max(0, ms), false, { signal: timer.signal }).catch(() => false),
  ]);
  timer.abort();
  return result;
}

/** Milliseconds left until a deadline set now, `ms` ahead (never negative). */
export function deadline(ms: number): () => number {
  const at = Date.now() + ms;
  return () => Math.max(0, at - Date.now());
}

/** `work`, unless `signal` aborts first: then it rejects with an AbortError (work keeps running). */
export async function unlessAborted<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (!signal) return work;
  work.catch(() => undefined); // a late rejection after the abort is not unhandled
  signal.throwIfAborted();
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      reject(signal.reason instanceof Error ? signal.reason : abortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function abortError(): Error {
  return new DOMException('stopped', 'AbortError');
}

/** Whether `err` is the rejection of {@link unlessAborted} (or any abort). */
export function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/**
 * A graceful QUIT (replies to the commands already sent come first) when Redis answers within
 * `ms`, then {@link dropRedis}: returns within `ms` (plus a tick) and never throws. Resolves
 * with whether the QUIT was answered in time.
 */
export async function quitWithin(redis: Redis | Cluster, ms: number): Promise<boolean> {
  // Only a ready connection can QUIT; any other is dropped (its queued commands rejected).
  const quit =
    redis.status === 'ready' && ms > 0
      ? redis.quit().then(
          () => true,
          () => false,
        )
      : undefined;
  const inTime = quit !== undefined && (await within(quit, ms)) && (await quit);
  dropRedis(redis);
  return inTime;
}

/**
 * End a connection now: every command queued or waiting for a reply rejects ("Connection is
 * closed."), and no socket or timer is left to hold the process. ioredis's own `disconnect()`
 * does neither in two cases: while it waits to reconnect (no socket, so nothing rejects the
 * commands queued offline, a blocking read included: they wait forever; and a 2 s timer holds
 * the process), and when Redis is frozen (its FIN is never answered: the socket stays open for
 * 2 s, its commands waiting until then).
 */
export function dropRedis(redis: Redis | Cluster): void {
  if (redis instanceof Cluster) {
    for (const node of redis.nodes()) dropOne(node);
    if (redis.status !== 'end') redis.disconnect();
    flush(redis);
    return;
  }
  dropOne(redis);
}

function dropOne(redis: Redis): void {
  // disconnect() ends the socket and gives it `disconnectTimeout` (2 s) to close before
  // destroying it, with a timer that holds the process meanwhile, even when the socket is long
  // closed (ioredis waiting to reconnect) or never answers (Redis frozen). Set to none, the
  // socket is destroyed at once, and its close rejects what waited on it.
  const connector = (redis as unknown as { connector?: { disconnectTimeout?: number } }).connector;
  if (connector) connector.disconnectTimeout = 0;
  // disconnect() on a connection that already ended would arm that timer again.
  if (redis.status !== 'end') redis.disconnect();
  flush(redis);
}

/** Reject the commands still queued (ioredis's `flushQueue`, not in its typings). */
function flush(redis: Redis | Cluster): void {
  const queued = redis as unknown as { flushQueue?: (error: Error) => void };
  queued.flushQueue?.(new Error(CLOSED));
}

/**
 * `step` until it succeeds, tried again every `everyMs` while it fails, for a start-up that
 * waits for Redis like a worker does. Gives up when `signal` aborts (an AbortError, also while
 * a try hangs on a frozen Redis). Each failure goes to `onError` (with how many so far).
 */
export async function retryUntilAborted<T>(
  step: () => Promise<T>,
  signal: AbortSignal,
  onError: (err: unknown, failures: number) => void,
  everyMs = 1_000,
): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await unlessAborted(step(), signal);
    } catch (err) {
      if (signal.aborted) throw isAbort(err) ? err : abortError();
      onError(err, failures);
    }
    await unlessAborted(sleep(everyMs), signal);
  }
}

/**
 * A service's first step against Redis: without a signal, run once; with one, again every
 * second until it works or the signal aborts, logging `<what> not started yet: waiting for
 * Redis` at the first failure and every tenth after it (the connections log the outage too).
 */
export function firstStep<T>(
  step: () => Promise<T>,
  signal: AbortSignal | undefined,
  log: Logger,
  what: string,
): Promise<T> {
  if (!signal) return step();
  return retryUntilAborted(step, signal, (err, failures) => {
    if (failures % 10 === 1) {
      log.warn({ err: String(err) }, `${what} not started yet: waiting for Redis`);
    }
  });
}

/** Part of SHUTDOWN_TIMEOUT_MS kept for the process to exit after its parts closed. */
const EXIT_RESERVE_SHARE = 0.1;
/** At most this much of it. */
const EXIT_RESERVE_MAX_MS = 1_000;

/**
 * What a process's stop may spend closing its parts, so that it has exited when
 * SHUTDOWN_TIMEOUT_MS has passed: the timeout less 10 % (at most 1 s) kept for the exit itself
 * (the last log lines, the tracing flush, the process's own teardown).
 */
export function stopBudgetMs(shutdownTimeoutMs: number): number {
  return shutdownTimeoutMs - Math.min(EXIT_RESERVE_MAX_MS, shutdownTimeoutMs * EXIT_RESERVE_SHARE);
}
