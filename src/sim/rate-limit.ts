/**
 * Fixed-window rate limit per API key. A key's window opens at its first request and lasts
 * `windowMs`; the counter resets when the next request arrives after the window end. With
 * `aligned`, windows are aligned to the clock instead (`[k * windowMs, (k + 1) * windowMs)`),
 * as many real APIs count them.
 * Times are passed in by the caller (the simulator's injectable clock).
 *
 * Every answer carries X-RateLimit-Limit / -Remaining / -Reset (unix seconds). With a limit
 * of 0 (off) requests are still counted per window, never refused, and the reported limit is
 * {@link UNLIMITED_REPORTED_LIMIT}.
 */

/** X-RateLimit-Limit sent when limiting is off (`rateLimit: 0`). */
export const UNLIMITED_REPORTED_LIMIT = 1_000_000;

export interface RateVerdict {
  allowed: boolean;
  /** Seconds until the window ends, at least 1 (for Retry-After). */
  retryAfterS: number;
}

interface Window {
  start: number;
  count: number;
}

export class RateLimiter {
  private windows = new Map<string, Window>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly aligned = false,
  ) {}

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** The value of X-RateLimit-Limit. */
  get reportedLimit(): number {
    return this.enabled ? this.limit : UNLIMITED_REPORTED_LIMIT;
  }

  /** Counts one request for `key` and writes the X-RateLimit-* headers into `headers`. */
  hit(key: string, nowMs: number, headers: Record<string, string>): RateVerdict {
    let w = this.windows.get(key);
    if (w === undefined || nowMs >= w.start + this.windowMs) {
      w = { start: this.aligned ? nowMs - (nowMs % this.windowMs) : nowMs, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    const end = w.start + this.windowMs;
    this.write(headers, Math.max(0, this.reportedLimit - w.count), end);
    return {
      allowed: !this.enabled || w.count <= this.limit,
      retryAfterS: Math.max(1, Math.ceil((end - nowMs) / 1000)),
    };
  }

  /** Headers for a request that is not attributed to any key (e.g. 401): a fresh, unconsumed window. */
  preview(nowMs: number, headers: Record<string, string>): void {
    const start = this.aligned ? nowMs - (nowMs % this.windowMs) : nowMs;
    this.write(headers, this.reportedLimit, start + this.windowMs);
  }

  reset(): void {
    this.windows.clear();
  }

  private write(headers: Record<string, string>, remaining: number, endMs: number): void {
    headers['x-ratelimit-limit'] = String(this.reportedLimit);
    headers['x-ratelimit-remaining'] = String(remaining);
    headers['x-ratelimit-reset'] = String(Math.ceil(endMs / 1000));
  }
}
