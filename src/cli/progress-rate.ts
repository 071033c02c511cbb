/**
 * The arithmetic of the progress the `bulk --wait` and `batch undo --wait` commands print, as
 * pure functions (no clock, no output): the work done (cancelled intents are not work), a
 * smoothed rate, the ETA it gives, and the progress line.
 *
 * The rate is an exponentially weighted moving average of the rate between samples, seeded by
 * the average over the first {@link RateSettings.minElapsedS} seconds: no ETA is shown before
 * that (the first seconds of a run say little: jobs are picked up in bursts), and after it a
 * burst or a pause moves the ETA by a fraction, not by a factor.
 */

/** What a wait reads: how many intents, and how many ended each way. */
export interface ProgressCounts {
  total: number;
  succeeded: number;
  failed: number;
  superseded: number;
  cancelled: number;
}

/** Intents that ran (or were decided by a run): cancelled ones never ran, so they are not work. */
export function workDone(c: ProgressCounts): number {
  return c.succeeded + c.failed + c.superseded;
}

/** Intents still waiting for an outcome. */
export function left(c: ProgressCounts): number {
  return Math.max(0, c.total - workDone(c) - c.cancelled);
}

export interface RateSettings {
  /** Seconds after which a sample weighs half as much. @defaultValue 20 */
  halfLifeS?: number;
  /** Samples before a rate is given. @defaultValue 5 */
  minSamples?: number;
  /** Seconds of samples before a rate is given. @defaultValue 10 */
  minElapsedS?: number;
}

export interface RateEstimator {
  /** One reading: at `atMs`, `done` units of work were done in all. */
  sample(atMs: number, done: number): void;
  /** The smoothed rate (units per second); undefined until there are enough samples. */
  rate(): number | undefined;
  /** The average rate since the first sample (0 before a second one). */
  average(): number;
}

export function rateEstimator(settings: RateSettings = {}): RateEstimator {
  const halfLifeS = settings.halfLifeS ?? 20;
  const minSamples = settings.minSamples ?? 5;
  const minElapsedS = settings.minElapsedS ?? 10;
  let first: { at: number; done: number } | undefined;
  let prev: { at: number; done: number } | undefined;
  let samples = 0;
  let ewma: number | undefined;
  return {
    sample(at, done) {
      if (!first || !prev) {
        first = prev = { at, done };
        samples = 1;
        return;
      }
      const dt = (at - prev.at) / 1000;
      if (dt <= 0) return;
      samples++;
      const elapsed = (at - first.at) / 1000;
      if (ewma === undefined) {
        if (samples >= minSamples && elapsed >= minElapsedS) {
          ewma = Math.max(0, (done - first.done) / elapsed);
        }
      } else {
        const instant = Math.max(0, (done - prev.done) / dt);
        const alpha = 1 - Math.exp((-dt * Math.LN2) / halfLifeS);
        ewma += alpha * (instant - ewma);
      }
      prev = { at, done };
    },
    rate: () => ewma,
    average() {
      if (!first || !prev || prev.at <= first.at) return 0;
      return Math.max(0, (prev.done - first.done) / ((prev.at - first.at) / 1000));
    },
  };
}

/** `4m05s`, `1h02m`; never negative. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * The ETA as text: `?` while there is no rate yet (or nothing moves), `0m00s` when nothing is
 * left. The rate is capped by the rate budget (`budgetPerS`, Infinity for none).
 */
export function etaText(
  remaining: number,
  rate: number | undefined,
  budgetPerS = Infinity,
): string {
  if (remaining <= 0) return formatDuration(0);
  if (rate === undefined || rate <= 0) return '?';
  return formatDuration(remaining / Math.min(rate, budgetPerS));
}

/**
 * One progress line: `progress: 1200/2000 <what> done (1190 succeeded, 10 failed), 800
 * cancelled, 9.5/s, ETA 2m10s`. Done counts the work (not the cancelled, said apart).
 */
export function progressLine(c: ProgressCounts, rate: number, eta: string, what = ''): string {
  const superseded = c.superseded > 0 ? `, ${c.superseded} superseded` : '';
  const cancelled = c.cancelled > 0 ? `, ${c.cancelled} cancelled` : '';
  return `progress: ${workDone(c)}/${c.total}${what ? ` ${what}` : ''} done (${c.succeeded} succeeded, ${c.failed} failed${superseded})${cancelled}, ${rate.toFixed(1)}/s, ETA ${eta}`;
}
