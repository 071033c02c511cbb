/**
 * A long API read outside a job (the backtest's delivery logs) through the key's budgets as a
 * normal caller (store/api-read-budget.ts): it learns the window from the answers, takes calls
 * of the allowance, never the reserve left to urgent calls, and waits while the window is spent.
 * Real Redis, a prefix per test.
 */
import { describe, expect, it } from 'vitest';
import { observeReadAnswer, takeReadCall } from '../../src/store/api-read-budget.js';
import { readRateBudget } from '../../src/store/rate-budget.js';
import { limiterFor } from '../../src/worker/backoff.js';
import { redisPerTest } from '../support/context.js';

const fixture = redisPerTest();
const budget = { limiter: limiterFor(0), reserve: 0.2 };

describe('API reads through the rate budget', () => {
  it('takes calls of the allowance, leaves the reserve, and waits while the window is spent', async () => {
    const { redis, keys } = fixture.current();
    // Before any answer nothing is held back.
    await takeReadCall(redis, keys, budget);
    // An answer: 10 a window, 10 left, the window ends in a minute (its length not known yet:
    // no pacing).
    await observeReadAnswer(redis, keys, {
      limit: 10,
      remaining: 10,
      resetAtMs: Date.now() + 60_000,
    });
    expect(await readRateBudget(redis, keys)).toMatchObject({ limit: 10, ours: 0 });
    // The allowance is 10 - 2 (the reserve): 8 calls, then it waits.
    for (let i = 0; i < 8; i++) await takeReadCall(redis, keys, budget);
    expect((await readRateBudget(redis, keys)).ours).toBe(8);
    const started = Date.now();
    // Aborted while waiting (the signal's timeout): it never took a call.
    await expect(takeReadCall(redis, keys, budget, AbortSignal.timeout(300))).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect((await readRateBudget(redis, keys)).ours).toBe(8);
    // No headers: nothing learned, nothing changed.
    await observeReadAnswer(redis, keys, undefined);
    expect((await readRateBudget(redis, keys)).limit).toBe(10);
  });
});
