/**
 * The retry rules, as pure functions: an answer from the API (or what happened instead) plus
 * the job's counters in, a decision out. No I/O, no clock: the processor carries decisions
 * out, and test/unit/policy.test.ts walks every branch.
 */
import type { SendmuxError } from '../sendmux/errors.js';
import type { RateLimitInfo } from '../sendmux/rate-limit-headers.js';
import type { WaitKind } from '../store/binding.js';
import { backoffDelay, rateLimitPause } from './backoff.js';

/** Re-runs after crashes or lost locks a job may have beyond its attempts and waits. */
export const CRASH_ALLOWANCE = 10;

export interface PolicySettings {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  rateLimitMaxWaits: number;
  rateLimitMaxWaitMs: number;
  inFlightMaxWaits: number;
  /** How long the queue pauses after a 401/403 before a job tries the key again. */
  authRetryMs: number;
}

export interface Counters {
  /** This attempt, from 1 (BullMQ's attemptsMade + 1). */
  attempt: number;
  /** Put-backs so far, per kind (they consume no attempt). */
  waits: Readonly<Record<WaitKind, number>>;
}

/** What came of a call. */
export type Answer =
  | { kind: 'ok'; answeredId: string | null; accountId: string }
  | { kind: 'error'; error: SendmuxError }
  /** Not an API answer: a bug, or a failure of Redis around the call. */
  | { kind: 'unexpected'; error: Error }
  /** The call was cut short: the worker is shutting down, or the run lost its job lock. */
  | { kind: 'aborted'; why: 'shutdown' | 'lock_lost' };

export type Decision =
  | { do: 'succeed' }
  /** Record a failure with this code (or the error's own) and stop. */
  | { do: 'fail'; code?: string; why: string }
  /**
   * The call's effect is unknown or may already be in place (a 409 conflict, retries or waits
   * ran out): read the account; if it is in the asked state the intent succeeded, else fail.
   */
  | { do: 'verify'; why: string }
  /** Throw: BullMQ retries with backoff and counts an attempt. */
  | { do: 'retry' }
  /**
   * Put the job back without an attempt: after `delayMs`, or (with `pauseQueueMs`) into the
   * waiting list while every worker pauses. `releaseLease` when the call certainly did not run.
   */
  | {
      do: 'put-back';
      wait: WaitKind;
      delayMs: number;
      pauseQueueMs?: number;
      releaseLease: boolean;
    }
  /** The run lost its job: record nothing; the run that owns it now will. */
  | { do: 'abandon' };

export function decide(
  answer: Answer,
  counters: Counters,
  settings: PolicySettings,
  random: () => number = Math.random,
): Decision {
  const final = counters.attempt >= settings.maxAttempts;
  switch (answer.kind) {
    case 'ok':
      if (answer.answeredId !== null && answer.answeredId !== answer.accountId) {
        return {
          do: 'fail',
          code: 'response_mismatch',
          why: `the API answered about ${answer.answeredId}, not ${answer.accountId}`,
        };
      }
      return { do: 'succeed' };
    case 'aborted':
      return answer.why === 'lock_lost'
        ? { do: 'abandon' }
        : { do: 'put-back', wait: 'shutdown', delayMs: 0, releaseLease: false };
    case 'unexpected':
      return final
        ? { do: 'fail', code: 'worker_error', why: answer.error.message }
        : { do: 'retry' };
    case 'error':
      return decideOnError(answer.error, counters, settings, final, random);
  }
}

function decideOnError(
  err: SendmuxError,
  counters: Counters,
  settings: PolicySettings,
  final: boolean,
  random: () => number,
): Decision {
  switch (err.kind) {
    case 'rate_limited': {
      const n = counters.waits.rate_limit;
      if (n >= settings.rateLimitMaxWaits) {
        return { do: 'fail', why: `rate limited ${n} times: ${err.message}` };
      }
      return {
        do: 'put-back',
        wait: 'rate_limit',
        delayMs: 0,
        pauseQueueMs: rateLimitPause(err.retryAfterMs, settings.rateLimitMaxWaitMs),
        // A 429 is answered before anything runs.
        releaseLease: true,
      };
    }
    case 'auth':
      // A bad or revoked key fails every job alike: pause them all and try again later,
      // rather than failing the whole backlog one job at a time.
      return {
        do: 'put-back',
        wait: 'auth',
        delayMs: 0,
        pauseQueueMs: settings.authRetryMs,
        releaseLease: true,
      };
    case 'in_flight': {
      // Our own earlier call with this key is still running at the API: not a failure.
      const n = counters.waits.in_flight;
      if (n >= settings.inFlightMaxWaits) {
        return { do: 'verify', why: `still in flight after ${n} waits: ${err.message}` };
      }
      return {
        do: 'put-back',
        wait: 'in_flight',
        delayMs: backoffDelay(
          n + 1,
          { baseMs: settings.backoffBaseMs, capMs: settings.backoffCapMs },
          Math.max(err.retryAfterMs ?? 0, settings.backoffBaseMs),
          random,
        ),
        releaseLease: false,
      };
    }
    case 'permanent':
      // "Its state forbids it" may well mean it already is where we want it.
      if (err.code === 'conflict') return { do: 'verify', why: err.message };
      return { do: 'fail', why: err.message };
    case 'transient':
      // The last try timed out or hit a 5xx: it may still have been carried out.
      return final
        ? { do: 'verify', why: `attempts exhausted (${counters.attempt}): ${err.message}` }
        : { do: 'retry' };
  }
}

/**
 * Runs that ended without an outcome or a counted wait: crashes, kills, lost locks.
 * `starts` counts this run.
 */
export function crashesSoFar(starts: number, counters: Counters): number {
  const waits = Object.values(counters.waits).reduce((a, b) => a + b, 0);
  return Math.max(0, starts - counters.attempt - waits);
}

/**
 * Slow down before the API says 429: when an answer (of any status) reports
 * `X-RateLimit-Remaining` at or below the watermark, pause until the window resets. A watermark
 * of 0 means "only on a 429".
 * @returns the pause in ms, or 0.
 */
export function budgetPause(
  rateLimit: RateLimitInfo | undefined,
  nowMs: number,
  lowWatermark: number,
  capMs: number,
): number {
  // 0 switches the slow-down off: only a 429 pauses the queue.
  if (!rateLimit || lowWatermark <= 0 || rateLimit.remaining > lowWatermark) return 0;
  const untilReset = rateLimit.resetAtMs - nowMs;
  return untilReset > 0 ? Math.min(untilReset, capMs) : 0;
}
