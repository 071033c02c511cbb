/** The retry rules, branch by branch: no Redis, no HTTP, no clock. */
import { describe, expect, it } from 'vitest';
import {
  budgetPause,
  crashesSoFar,
  decide,
  type Answer,
  type Counters,
} from '../../src/worker/policy.js';
import { apiError, at, settings } from '../support/policy-fixtures.js';

const half = () => 0.5;

describe('decide', () => {
  it.each<[string, Answer, Counters, ReturnType<typeof decide>['do'], Record<string, unknown>?]>([
    [
      'a 2xx for the account asked: success',
      { kind: 'ok', answeredId: 'dprov_a', accountId: 'dprov_a' },
      at(1),
      'succeed',
    ],
    [
      'a 2xx that names no account: still a success',
      { kind: 'ok', answeredId: null, accountId: 'dprov_a' },
      at(1),
      'succeed',
    ],
    [
      'a 2xx about another account: a failure',
      { kind: 'ok', answeredId: 'dprov_b', accountId: 'dprov_a' },
      at(1),
      'fail',
      { code: 'response_mismatch' },
    ],
    ['404: permanent', apiError(404, 'not_found'), at(1), 'fail'],
    ['422: permanent', apiError(422, 'validation_error'), at(1), 'fail'],
    ['409 conflict: maybe already there, read first', apiError(409, 'conflict'), at(1), 'verify'],
    [
      '500 before the last attempt: retry',
      apiError(500, 'internal_error', { apiRetryable: true }),
      at(2),
      'retry',
    ],
    [
      '500 on the last attempt: read first',
      apiError(500, 'internal_error', { apiRetryable: true }),
      at(3),
      'verify',
    ],
    [
      '500 the API marks not retryable: fail now',
      apiError(500, 'internal_error', { apiRetryable: false }),
      at(1),
      'fail',
    ],
    ['timeout before the last attempt: retry', apiError(null, 'timeout'), at(1), 'retry'],
    ['timeout on the last attempt: read first', apiError(null, 'timeout'), at(3), 'verify'],
    [
      '429: put back, pause the queue, free the account',
      apiError(429, 'rate_limit_exceeded', { retryAfterMs: 7_000 }),
      at(1),
      'put-back',
      { wait: 'rate_limit', pauseQueueMs: 7_000, releaseLease: true },
    ],
    [
      '429 after the last allowed wait: fail',
      apiError(429, 'rate_limit_exceeded'),
      at(1, { rate_limit: 5 }),
      'fail',
    ],
    [
      '429s do not count against in-flight waits',
      apiError(409, 'idempotency_conflict'),
      at(1, { rate_limit: 5 }),
      'put-back',
      { wait: 'in_flight' },
    ],
    [
      'in-flight 409: wait without an attempt, keep the account',
      apiError(409, 'idempotency_conflict'),
      at(1),
      'put-back',
      { wait: 'in_flight', releaseLease: false },
    ],
    [
      'in-flight 409 after the last wait: read first',
      apiError(409, 'idempotency_conflict'),
      at(1, { in_flight: 4 }),
      'verify',
    ],
    [
      '401: pause the queue and wait for a working key',
      apiError(401, 'authentication_required'),
      at(3),
      'put-back',
      { wait: 'auth', pauseQueueMs: 30_000 },
    ],
    [
      '403: the same, however many times',
      apiError(403, 'insufficient_permissions'),
      at(1, { auth: 1_000 }),
      'put-back',
      { wait: 'auth' },
    ],
    [
      'a bug before the last attempt: retry',
      { kind: 'unexpected', error: new TypeError('boom') },
      at(1),
      'retry',
    ],
    [
      'a bug on the last attempt: fail as worker_error',
      { kind: 'unexpected', error: new TypeError('boom') },
      at(3),
      'fail',
      { code: 'worker_error' },
    ],
    [
      'aborted by a shutdown: put back without an attempt',
      { kind: 'aborted', why: 'shutdown' },
      at(3),
      'put-back',
      { wait: 'shutdown', delayMs: 0 },
    ],
    [
      'aborted because the lock was lost: record nothing',
      { kind: 'aborted', why: 'lock_lost' },
      at(1),
      'abandon',
    ],
  ])('%s', (_name, answer, counters, expected, fields) => {
    const d = decide(answer, counters, settings, half);
    expect(d.do).toBe(expected);
    if (fields) expect(d).toMatchObject(fields);
  });

  it('waits for an in-flight call at least the base and never sooner than asked', () => {
    const d = decide(
      apiError(409, 'idempotency_conflict', { retryAfterMs: 700 }),
      at(1),
      settings,
      () => 0,
    );
    expect(d).toMatchObject({ do: 'put-back', delayMs: 700 });
    const e = decide(apiError(409, 'idempotency_conflict'), at(1), settings, () => 0);
    expect(e).toMatchObject({ do: 'put-back', delayMs: settings.backoffBaseMs });
  });

  it('caps a 429 pause at RATE_LIMIT_MAX_WAIT_MS', () => {
    const d = decide(
      apiError(429, 'rate_limit_exceeded', { retryAfterMs: 3_600_000 }),
      at(1),
      settings,
    );
    expect(d).toMatchObject({ pauseQueueMs: settings.rateLimitMaxWaitMs });
  });
});

describe('crashesSoFar', () => {
  it('counts runs that ended with neither an attempt nor a counted wait', () => {
    expect(crashesSoFar(1, at(1))).toBe(0); // the first run
    expect(crashesSoFar(3, at(2, { rate_limit: 1 }))).toBe(0); // retry + put-back
    expect(crashesSoFar(4, at(2, { rate_limit: 1 }))).toBe(1); // ... and one crash
    expect(crashesSoFar(12, at(1))).toBe(11);
  });
});

describe('budgetPause', () => {
  const now = 1_000_000;
  it('pauses until the window resets when the budget is at or below the watermark', () => {
    expect(
      budgetPause({ limit: 600, remaining: 30, resetAtMs: now + 4_000 }, now, 30, 60_000),
    ).toBe(4_000);
    expect(
      budgetPause({ limit: 600, remaining: 0, resetAtMs: now + 90_000 }, now, 30, 60_000),
    ).toBe(60_000);
  });
  it('is off at a watermark of 0: only a 429 pauses', () => {
    expect(budgetPause({ limit: 600, remaining: 0, resetAtMs: now + 4_000 }, now, 0, 60_000)).toBe(
      0,
    );
  });
  it('does nothing with budget left, with no headers, or after the reset', () => {
    expect(
      budgetPause({ limit: 600, remaining: 31, resetAtMs: now + 4_000 }, now, 30, 60_000),
    ).toBe(0);
    expect(budgetPause(undefined, now, 30, 60_000)).toBe(0);
    expect(budgetPause({ limit: 600, remaining: 0, resetAtMs: now - 1 }, now, 30, 60_000)).toBe(0);
  });
});
