/**
 * Retry timing. Pure functions; the random source is injectable for tests.
 */

export interface BackoffSettings {
  baseMs: number;
  capMs: number;
}

/**
 * Exponential backoff with full jitter: a uniform draw in [0, min(cap, base * 2^(attempt-1))],
 * never sooner than the server asked (`retryAfterMs`).
 *
 * @param attempt - the attempt that just failed, from 1.
 */
export function backoffDelay(
  attempt: number,
  settings: BackoffSettings,
  retryAfterMs = 0,
  random: () => number = Math.random,
): number {
  const exp = Math.min(
    settings.capMs,
    settings.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 52)),
  );
  const jittered = Math.floor(random() * (exp + 1));
  return Math.max(jittered, Math.ceil(retryAfterMs));
}

/** How long the whole queue pauses after a 429: what the server asked, within [1 s, cap]. */
export function rateLimitPause(
  retryAfterMs: number | undefined,
  capMs: number,
  fallbackMs = 1_000,
): number {
  const asked = retryAfterMs !== undefined && retryAfterMs > 0 ? retryAfterMs : fallbackMs;
  return Math.min(capMs, Math.max(1_000, Math.ceil(asked)));
}

/**
 * BullMQ's limiter for a per-minute budget, smoothed into slots of ~100 ms: at 600/min one job
 * every 100 ms rather than 10 at the start of each second (or 600 at the top of each minute);
 * at 3,000/min five per 100 ms. A job put at the head of the queue (a breaker trip) then waits
 * one slot at most, not a second. Below 600/min, one job per slot of 60,000 / perMinute ms.
 * `perMinute = 0` means no client-side limit (BullMQ still needs a limiter so that a 429 can
 * pause the queue).
 */
export function limiterFor(perMinute: number): { max: number; duration: number } {
  if (perMinute <= 0) return { max: 1_000_000, duration: 1_000 };
  const max = Math.max(1, Math.floor(perMinute / 600));
  // Rounded up so the smoothed rate never exceeds the budget.
  return { max, duration: Math.ceil((60_000 * max) / perMinute) };
}
