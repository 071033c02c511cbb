/**
 * The progress arithmetic of `bulk --wait` and `batch undo --wait` (src/cli/progress-rate.ts),
 * as pure functions fed with made-up clocks: no ETA before enough samples, a smoothed one
 * after (bursts do not swing it by a factor), cancelled intents not counted as work.
 */
import { describe, expect, it } from 'vitest';
import {
  etaText,
  formatDuration,
  left,
  progressLine,
  rateEstimator,
  workDone,
} from '../../src/cli/progress-rate.js';
import { undoKey } from '../../src/ops/batch-activations.js';
import { undoActivationKey } from '../../src/store/batch-undo-record.js';

/** Seconds from an ETA's text (`4m05s`, `1h02m`). */
function seconds(text: string): number {
  const h = /^(\d+)h(\d\d)m$/.exec(text);
  if (h) return Number(h[1]) * 3600 + Number(h[2]) * 60;
  const m = /^(\d+)m(\d\d)s$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

describe('progress rate', () => {
  it('gives no rate (ETA ?) before 5 samples and 10 s, then the average so far', () => {
    const r = rateEstimator();
    for (let i = 0; i <= 4; i++) r.sample(i * 500, i * 5); // 2 s, 5 samples
    expect(r.rate()).toBeUndefined();
    expect(etaText(1000, r.rate())).toBe('?');
    const later = rateEstimator();
    later.sample(0, 0);
    later.sample(10_000, 90); // 10 s but 2 samples
    expect(later.rate()).toBeUndefined();
    for (let s = 11; s <= 13; s++) later.sample(s * 1000, s * 9);
    expect(later.rate()).toBeCloseTo(9, 5);
    expect(etaText(900, later.rate())).toBe('1m40s');
  });

  it('bursty progress (jobs done in bursts) keeps the ETA within a band, not 3m -> 21m', () => {
    // 2,000 jobs at 9/s on average, read every 500 ms, done in bursts: 45 every 5 s.
    const r = rateEstimator();
    const etas: number[] = [];
    let done = 0;
    for (let t = 0; t <= 120_000; t += 500) {
      if (t > 0 && t % 5_000 === 0) done += 45;
      r.sample(t, done);
      const rate = r.rate();
      if (rate !== undefined) etas.push(seconds(etaText(2000 - done, rate)) + t / 1000);
    }
    // The predicted end (now + ETA) stays near the true one (~222 s) once given.
    expect(etas.length).toBeGreaterThan(200);
    expect(Math.min(...etas)).toBeGreaterThan(222 * 0.6);
    expect(Math.max(...etas)).toBeLessThan(222 * 1.6);
  });

  it('follows a lasting change of rate', () => {
    const r = rateEstimator();
    for (let s = 0; s <= 20; s++) r.sample(s * 1000, s * 10);
    expect(r.rate()).toBeCloseTo(10, 1);
    for (let s = 21; s <= 140; s++) r.sample(s * 1000, 200 + (s - 20) * 2);
    expect(r.rate()).toBeGreaterThan(1.9);
    expect(r.rate()).toBeLessThan(2.2);
  });

  it('the rate budget caps the ETA; nothing left is 0m00s', () => {
    expect(etaText(600, 100, 10)).toBe('1m00s');
    expect(etaText(0, undefined)).toBe('0m00s');
    expect(formatDuration(7_320)).toBe('2h02m');
  });

  it('cancelled intents are not work: not done, not left, named apart', () => {
    const c = { total: 2000, succeeded: 1190, failed: 10, superseded: 0, cancelled: 800 };
    expect(workDone(c)).toBe(1200);
    expect(left(c)).toBe(0);
    expect(progressLine(c, 9.5, '0m00s')).toBe(
      'progress: 1200/2000 done (1190 succeeded, 10 failed), 800 cancelled, 9.5/s, ETA 0m00s',
    );
    expect(
      progressLine(
        { total: 10, succeeded: 4, failed: 0, superseded: 1, cancelled: 0 },
        2,
        '0m03s',
        'activations',
      ),
    ).toBe(
      'progress: 5/10 activations done (4 succeeded, 0 failed, 1 superseded), 2.0/s, ETA 0m03s',
    );
  });

  it("the undo activation's key the record counts is the one batch undo asks for", () => {
    expect(undoActivationKey('b-1', 'dprov_x')).toBe(undoKey('b-1', 'dprov_x'));
  });
});
