/**
 * Fixed-window rate limit per API key. A key's window opens at its first request and lasts
 * `windowMs`; the counter resets when the next request arrives after the window end.
 */

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
  ) {}

  get enabled(): boolean {
    return this.limit > 0;
  }

  /**
   * Counts one request for `key` and writes the X-RateLimit-* headers into `headers`.
   * Always allowed when the limit is 0 (unlimited; no headers then).
   */
  hit(key: string, nowMs: number, headers: Record<string, string>): RateVerdict {
    if (this.limit <= 0) return { allowed: true, retryAfterS: 0 };
    let w = this.windows.get(key);
    if (w === undefined || nowMs >= w.start + this.windowMs) {
      w = { start: nowMs, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    const end = w.start + this.windowMs;
    this.write(headers, Math.max(0, this.limit - w.count), end);
    return {
      allowed: w.count <= this.limit,
      retryAfterS: Math.max(1, Math.ceil((end - nowMs) / 1000)),
    };
  }

  /** Headers for a request that is not attributed to any key (e.g. 401): a fresh, unconsumed window. */
  preview(nowMs: number, headers: Record<string, string>): void {
    if (this.limit > 0) this.write(headers, this.limit, nowMs + this.windowMs);
  }

  reset(): void {
    this.windows.clear();
  }

  private write(headers: Record<string, string>, remaining: number, endMs: number): void {
    headers['x-ratelimit-limit'] = String(this.limit);
    headers['x-ratelimit-remaining'] = String(remaining);
    headers['x-ratelimit-reset'] = String(Math.ceil(endMs / 1000));
  }
}
