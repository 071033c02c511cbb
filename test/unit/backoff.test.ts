import { describe, expect, it } from 'vitest';
import { backoffDelay, limiterFor, rateLimitPause } from '../../src/worker/backoff.js';

const settings = { baseMs: 100, capMs: 1_000 };

describe('backoffDelay (full jitter)', () => {
  it('draws from [0, base * 2^(attempt-1)]', () => {
    expect(backoffDelay(1, settings, 0, () => 0)).toBe(0);
    expect(backoffDelay(1, settings, 0, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, settings, 0, () => 0.999999)).toBe(400);
    expect(backoffDelay(3, settings, 0, () => 0.5)).toBe(200);
  });

  it('never exceeds the cap, even for huge attempt numbers', () => {
    expect(backoffDelay(10, settings, 0, () => 0.999999)).toBe(1_000);
    expect(backoffDelay(10_000, settings, 0, () => 0.999999)).toBe(1_000);
  });

  it('is never sooner than Retry-After', () => {
    expect(backoffDelay(1, settings, 5_000, () => 0)).toBe(5_000);
    expect(backoffDelay(4, settings, 250, () => 0.999999)).toBe(800);
  });

  it('spreads retries (jitter is real)', () => {
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(5, settings)));
    expect(seen.size).toBeGreaterThan(10);
  });
});

describe('rateLimitPause', () => {
  it('honours the server within [1 s, cap]', () => {
    expect(rateLimitPause(30_000, 60_000)).toBe(30_000);
    expect(rateLimitPause(3_600_000, 60_000)).toBe(60_000);
    expect(rateLimitPause(10, 60_000)).toBe(1_000);
    expect(rateLimitPause(undefined, 60_000)).toBe(1_000);
  });
});

describe('limiterFor', () => {
  it('smooths into slots of ~100 ms: 600/min is one job every 100 ms', () => {
    expect(limiterFor(600)).toEqual({ max: 1, duration: 100 });
    expect(limiterFor(540)).toEqual({ max: 1, duration: 112 });
    expect(limiterFor(3_000)).toEqual({ max: 5, duration: 100 });
    expect(limiterFor(60_000)).toEqual({ max: 100, duration: 100 });
  });
  it('never exceeds the budget for awkward rates', () => {
    for (const perMinute of [1, 7, 59, 61, 100, 601, 999, 6000, 6001, 59_999, 100_000]) {
      const { max, duration } = limiterFor(perMinute);
      expect((max * 60_000) / duration).toBeLessThanOrEqual(perMinute);
      expect((max * 60_000) / duration).toBeGreaterThan(perMinute * 0.98);
    }
  });
  it('0 means no client-side limit but keeps a limiter for 429 pauses', () => {
    expect(limiterFor(0).max).toBeGreaterThanOrEqual(100_000);
  });
});
