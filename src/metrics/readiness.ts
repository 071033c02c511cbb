/**
 * Readiness (`GET /readyz`, http/probe-routes.ts): Redis answers, and the actions queue is not
 * stuck. Two checks, each bounded, so the answer comes within about 2 s whatever Redis does:
 *
 * - `redis`: PING answered within {@link PING_TIMEOUT_MS} (on a connection that fails fast:
 *   no offline queue, short connect and command timeouts).
 * - `queue` (only when Redis answered): the actions queue is stuck when, all at once,
 *   1. it is not paused: not by BullMQ's pause, and not by our rate-limit or auth pause (the
 *      limiter key holds a count above the per-slot limit and still has time to live; the
 *      count it holds for a slot after each job only paces jobs, and is not a pause);
 *   2. no job is being worked on: no active job holds a live lock (the job of a worker that
 *      died stays `active`, lockless, until another worker's stalled check moves it);
 *   3. a job has been ready to run for longer than READY_STUCK_MS: the job next in line (the
 *      tail of the wait list), ready since the later of its enqueue time plus its delay and
 *      its last start; or the earliest delayed job, whose due time passed that long ago
 *      (BullMQ promotes delayed jobs only while a worker runs);
 *   4. nothing finished within READY_STUCK_MS: the newest completed job and the newest entry of
 *      the events stream (every outcome appends one) are older.
 *   A backlog drained at the rate limit is not stuck (jobs start and finish all the time); a
 *   queue whose workers are all gone, or hang without taking jobs, is.
 */
import type { Job, Queue } from 'bullmq';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from '../store/keys.js';
import { queuePausedForMs } from '../store/pause-queue.js';
import { within } from './metrics.js';

/** Longest wait for Redis's PONG. */
export const PING_TIMEOUT_MS = 1_000;
/** Longest wait for the queue's reads. */
export const QUEUE_CHECK_TIMEOUT_MS = 1_000;
/** Active jobs whose locks are looked at. */
const ACTIVE_SCAN = 100;
/** BullMQ's delayed set scores a job `due ms * 0x1000 + counter`. */
const DELAY_SCORE_FACTOR = 0x1000;

export interface RedisCheck {
  ok: boolean;
  ms?: number;
  error?: string;
}

export interface QueueCheck {
  ok: boolean;
  error?: string;
  /** BullMQ's pause, or ours (a 429, a refused key, the low watermark) through the limiter. */
  paused?: boolean;
  /** Active jobs holding a live lock (of those looked at). */
  working?: number;
  /** How long the job next to run has been ready (ms), if one is. */
  ready_for_ms?: number | null;
  /** How long ago a job last finished or an outcome was recorded (ms), if ever. */
  idle_for_ms?: number | null;
}

export interface Readiness {
  ready: boolean;
  /** The checks that failed, by name. */
  failed: string[];
  checks: { redis: RedisCheck; queue: QueueCheck };
}

export interface ReadinessDeps {
  /** A connection that fails fast (no offline queue). */
  redis: Redis;
  /** The actions queue, on that connection. */
  queue: Queue;
  keys: Keys;
  /** READY_STUCK_MS */
  stuckMs: number;
  /**
   * The rate limiter's jobs per slot (worker/backoff.ts limiterFor): a limiter count above it
   * is a pause of every worker; at or below it, the limiter only paces jobs.
   */
  limiterMax: number;
  now?: () => number;
  /**
   * Check the queue too. Off for a process that only receives webhooks and serves the API
   * (`/readyz?checks=redis`): stalled workers elsewhere should not take it out of rotation.
   * @defaultValue true
   */
  checkQueue?: boolean;
}

export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const redis = await checkRedis(deps.redis);
  const queue: QueueCheck =
    deps.checkQueue === false
      ? { ok: true, error: 'not checked (?checks=redis)' }
      : redis.ok
        ? await within(checkQueue(deps), QUEUE_CHECK_TIMEOUT_MS, 'queue').catch((err: unknown) => ({
            ok: false,
            error: message(err),
          }))
        : { ok: false, error: 'not checked: Redis did not answer' };
  const failed = [...(redis.ok ? [] : ['redis']), ...(queue.ok || !redis.ok ? [] : ['queue'])];
  return { ready: failed.length === 0, failed, checks: { redis, queue } };
}

async function checkRedis(redis: Redis): Promise<RedisCheck> {
  const started = performance.now();
  try {
    await within(
      (async () => {
        // Still connecting (the first check, or just after an outage): wait for it, bounded.
        if (redis.status === 'connecting' || redis.status === 'reconnecting') {
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              redis.off('ready', done);
              resolve();
            };
            const timer = setTimeout(done, PING_TIMEOUT_MS);
            redis.once('ready', done);
          });
        }
        await redis.ping();
      })(),
      PING_TIMEOUT_MS,
      'PING',
    );
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, error: message(err) };
  }
}

async function checkQueue(deps: ReadinessDeps): Promise<QueueCheck> {
  const { redis, queue, keys } = deps;
  const qk = queue.keys;
  const [paused, pausedForMs, activeIds, next, delayed, completed, newestEvent] = await Promise.all(
    [
      queue.isPaused(),
      queuePausedForMs(redis, keys, deps.limiterMax),
      redis.lrange(qk.active ?? '', 0, ACTIVE_SCAN - 1),
      queue.getJobs(['wait'], 0, 0, true) as Promise<(Job | undefined)[]>,
      redis.zrange(qk.delayed ?? '', 0, 0, 'WITHSCORES'),
      redis.zrevrange(qk.completed ?? '', 0, 0, 'WITHSCORES'),
      redis.xrevrange(keys.events, '+', '-', 'COUNT', 1),
    ],
  );
  const working =
    activeIds.length > 0 ? await redis.exists(...activeIds.map((id) => keys.jobLock(id))) : 0;
  const now = deps.now?.() ?? Date.now();
  const readySince: number[] = [];
  const head = next[0];
  if (head) readySince.push(Math.max(head.timestamp + (head.delay || 0), head.processedOn ?? 0));
  if (delayed[1] !== undefined) {
    const due = Math.floor(Number(delayed[1]) / DELAY_SCORE_FACTOR);
    if (due <= now) readySince.push(due);
  }
  const finished = [Number(completed[1] ?? NaN), Number(newestEvent[0]?.[0]?.split('-')[0] ?? NaN)]
    .filter((n) => Number.isFinite(n))
    .reduce((a, b) => Math.max(a, b), -Infinity);
  const readyForMs = readySince.length > 0 ? now - Math.min(...readySince) : null;
  const idleForMs = finished === -Infinity ? null : now - finished;
  const isPaused = paused || pausedForMs > 0;
  const stuck =
    !isPaused &&
    working === 0 &&
    readyForMs !== null &&
    readyForMs > deps.stuckMs &&
    (idleForMs === null || idleForMs > deps.stuckMs);
  const check: QueueCheck = {
    ok: !stuck,
    paused: isPaused,
    working,
    ready_for_ms: readyForMs,
    idle_for_ms: idleForMs,
  };
  if (stuck) {
    check.error = `a job has been ready to run for ${Math.round(readyForMs / 1000)} s (READY_STUCK_MS ${deps.stuckMs}) while no job runs and none finished: is a worker running?`;
  }
  return check;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
