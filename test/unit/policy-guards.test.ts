/**
 * Every branch of the retry policy (src/worker/policy.ts) with the whole decision compared, so
 * that each mutation of the guard list (test/guards/guards.ts) fails here: which put-backs give
 * the account lease back, which waits pause the queue and for how long, where each branch ends.
 */
import { describe, expect, it } from 'vitest';
import { budgetPause, crashesSoFar, decide, type Answer } from '../../src/worker/policy.js';
import { apiError, at, settings } from '../support/policy-fixtures.js';

const zero = () => 0;

describe('decide: each branch, the whole decision', () => {
  it('a 2xx about the account asked, or naming none: succeed', () => {
    expect(
      decide({ kind: 'ok', answeredId: 'dprov_a', accountId: 'dprov_a' }, at(1), settings),
    ).toEqual({
      do: 'succeed',
    });
    expect(decide({ kind: 'ok', answeredId: null, accountId: 'dprov_a' }, at(1), settings)).toEqual(
      {
        do: 'succeed',
      },
    );
  });

  it('a 2xx about another account: fail response_mismatch', () => {
    expect(
      decide({ kind: 'ok', answeredId: 'dprov_b', accountId: 'dprov_a' }, at(1), settings),
    ).toEqual({
      do: 'fail',
      code: 'response_mismatch',
      why: 'the API answered about dprov_b, not dprov_a',
    });
  });

  it('a shutdown put-back keeps the account lease and consumes no time', () => {
    expect(decide({ kind: 'aborted', why: 'shutdown' }, at(1), settings)).toEqual({
      do: 'put-back',
      wait: 'shutdown',
      delayMs: 0,
      releaseLease: false,
    });
  });

  it('a lost lock: abandon, record nothing', () => {
    expect(decide({ kind: 'aborted', why: 'lock_lost' }, at(1), settings)).toEqual({
      do: 'abandon',
    });
  });

  it('an unexpected error: retry, and fail worker_error on the last attempt', () => {
    const answer: Answer = { kind: 'unexpected', error: new Error('redis went away') };
    expect(decide(answer, at(2), settings)).toEqual({ do: 'retry' });
    expect(decide(answer, at(3), settings)).toEqual({
      do: 'fail',
      code: 'worker_error',
      why: 'redis went away',
    });
  });

  it('401/403: put back, pause the queue AUTH_RETRY_MS, give the lease back', () => {
    for (const [status, code] of [
      [401, 'authentication_required'],
      [403, 'forbidden'],
    ] as const) {
      expect(decide(apiError(status, code), at(3), settings)).toEqual({
        do: 'put-back',
        wait: 'auth',
        delayMs: 0,
        pauseQueueMs: 30_000,
        releaseLease: true,
      });
    }
  });

  it('429: put back, pause the queue, give the lease back; fail once the waits ran out', () => {
    const e = apiError(429, 'rate_limited', { retryAfterMs: 7_000 });
    expect(decide(e, at(1, { rate_limit: 4 }), settings)).toEqual({
      do: 'put-back',
      wait: 'rate_limit',
      delayMs: 0,
      pauseQueueMs: 7_000,
      releaseLease: true,
    });
    expect(decide(e, at(1, { rate_limit: 5 }), settings)).toEqual({
      do: 'fail',
      why: 'rate limited 5 times: 429 rate_limited',
    });
  });

  it('in flight: put back with backoff, keeping the lease; verify once the waits ran out', () => {
    const e = apiError(409, 'idempotency_conflict', { retryAfterMs: 50 });
    const d = decide(e, at(1, { in_flight: 3 }), settings, zero);
    expect(d).toMatchObject({ do: 'put-back', wait: 'in_flight', releaseLease: false });
    expect(d).not.toHaveProperty('pauseQueueMs');
    expect(decide(e, at(1, { in_flight: 4 }), settings)).toEqual({
      do: 'verify',
      why: 'still in flight after 4 waits: 409 idempotency_conflict',
    });
  });

  it('a 409 conflict: verify; any other permanent error: fail', () => {
    expect(decide(apiError(409, 'conflict'), at(1), settings)).toEqual({
      do: 'verify',
      why: '409 conflict',
    });
    expect(decide(apiError(404, 'not_found'), at(1), settings)).toEqual({
      do: 'fail',
      why: '404 not_found',
    });
  });

  it('a transient error: retry, and verify on the last attempt', () => {
    const e = apiError(null, 'timeout');
    expect(decide(e, at(2), settings)).toEqual({ do: 'retry' });
    expect(decide(e, at(3), settings)).toEqual({
      do: 'verify',
      why: 'attempts exhausted (3): - timeout',
    });
  });
});

describe('crashesSoFar and budgetPause, at their edges', () => {
  it('counts runs beyond attempts and waits, never below 0', () => {
    expect(crashesSoFar(5, at(2, { auth: 1, shutdown: 1 }))).toBe(1);
    expect(crashesSoFar(1, at(2))).toBe(0);
  });

  it('pauses at the watermark exactly, not above it, and never at a watermark of 0', () => {
    const now = 1_000;
    expect(budgetPause({ limit: 100, remaining: 5, resetAtMs: 4_000 }, now, 5, 60_000)).toBe(3_000);
    expect(budgetPause({ limit: 100, remaining: 6, resetAtMs: 4_000 }, now, 5, 60_000)).toBe(0);
    expect(budgetPause({ limit: 100, remaining: 0, resetAtMs: 4_000 }, now, 0, 60_000)).toBe(0);
    expect(budgetPause(undefined, now, 5, 60_000)).toBe(0);
    expect(budgetPause({ limit: 100, remaining: 0, resetAtMs: 4_000 }, now, 5, 2_000)).toBe(2_000);
    expect(budgetPause({ limit: 100, remaining: 0, resetAtMs: 500 }, now, 5, 60_000)).toBe(0);
  });
});
