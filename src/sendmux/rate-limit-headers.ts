/** Reading `Retry-After` and `X-RateLimit-*` response headers. Pure functions, no I/O. */

type Headers = Record<string, string | string[] | undefined>;

/** What the API said about the caller's rate budget on one response. */
export interface RateLimitInfo {
  limit: number;
  remaining: number;
  /** Epoch milliseconds at which the window resets. */
  resetAtMs: number;
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function nonNegativeNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** `Retry-After` as milliseconds from `nowMs`: delta-seconds or an HTTP date. */
export function parseRetryAfter(headers: Headers, nowMs: number): number | undefined {
  const raw = header(headers, 'retry-after');
  if (raw === undefined) return undefined;
  const seconds = nonNegativeNumber(raw);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** `X-RateLimit-Limit/Remaining/Reset`; undefined unless all three are present and valid. */
export function parseRateLimit(headers: Headers): RateLimitInfo | undefined {
  const limit = nonNegativeNumber(header(headers, 'x-ratelimit-limit'));
  const remaining = nonNegativeNumber(header(headers, 'x-ratelimit-remaining'));
  const reset = nonNegativeNumber(header(headers, 'x-ratelimit-reset'));
  if (limit === undefined || remaining === undefined || reset === undefined) return undefined;
  return { limit, remaining, resetAtMs: reset * 1000 };
}
