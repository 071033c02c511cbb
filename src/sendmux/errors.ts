/**
 * The one error type the Sendmux client throws, and its classification.
 *
 * Errors cross process boundaries (BullMQ stores `failedReason`), so they are recognised
 * by their stable `name`, not only by `instanceof`.
 */
import type { RateLimitInfo } from './rate-limit-headers.js';
import type { ApiErrorCode } from './schemas.js';

/** Codes for failures that never reached an API answer. */
export type TransportErrorCode = 'network_error' | 'timeout' | 'invalid_response';

/**
 * How the queue should treat a failure.
 * - `rate_limited`: 429 — pause the whole queue until the budget resets; no attempt consumed.
 * - `in_flight`: 409 idempotency_conflict — the same key is still running at the API; retry soon.
 * - `auth`: 401/403 — the API key is bad, revoked or lacks a permission: nothing will work
 *   until it is fixed, whichever account is asked.
 * - `transient`: 5xx (unless the API says `retryable: false`), timeouts, resets — retry.
 * - `permanent`: anything else (404, 409 conflict, 422, ...) — fail now.
 */
export type FailureKind = 'rate_limited' | 'in_flight' | 'auth' | 'transient' | 'permanent';

export interface SendmuxErrorFields {
  /** HTTP status, or `null` when no answer came (network error, timeout). */
  status: number | null;
  code: ApiErrorCode | TransportErrorCode | (string & {});
  message: string;
  /** What the API's `error.retryable` said, when it answered. */
  apiRetryable?: boolean | undefined;
  requestId?: string | undefined;
  /** The wait the API asked for: `Retry-After`, or for a 429 the time to `X-RateLimit-Reset`. */
  retryAfterMs?: number | undefined;
  rateLimit?: RateLimitInfo | undefined;
  param?: string | undefined;
}

export class SendmuxError extends Error {
  override readonly name = 'SendmuxError';
  readonly status: number | null;
  readonly code: SendmuxErrorFields['code'];
  readonly apiRetryable: boolean | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly rateLimit: RateLimitInfo | undefined;
  readonly param: string | undefined;
  readonly kind: FailureKind;

  constructor(fields: SendmuxErrorFields, options?: { cause?: unknown }) {
    super(fields.message, options);
    this.status = fields.status;
    this.code = fields.code;
    this.apiRetryable = fields.apiRetryable;
    this.requestId = fields.requestId;
    this.retryAfterMs = fields.retryAfterMs;
    this.rateLimit = fields.rateLimit;
    this.param = fields.param;
    this.kind = classifyFailure(fields.status, fields.code, fields.apiRetryable);
  }

  /** Whether retrying the same request (same idempotency key) can succeed. */
  get retryable(): boolean {
    return this.kind !== 'permanent' && this.kind !== 'auth';
  }

  /** A plain object safe to log or store: no headers, no credentials. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      status: this.status,
      code: this.code,
      kind: this.kind,
      retryable: this.retryable,
      request_id: this.requestId,
      retry_after_ms: this.retryAfterMs,
    };
  }
}

/** Pure classification of a failure (see {@link FailureKind}). */
export function classifyFailure(
  status: number | null,
  code: string,
  apiRetryable?: boolean,
): FailureKind {
  if (status === null) return 'transient';
  if (status === 429 || code === 'rate_limit_exceeded') return 'rate_limited';
  // For activate/deactivate (no body) the only way to hit this is the same key still in flight.
  if (status === 409 && code === 'idempotency_conflict') return 'in_flight';
  if (status === 401 || status === 403) return 'auth';
  // The API's own word wins where it gave one (a 5xx it marks not retryable is not retried).
  if (status >= 500) return apiRetryable === false ? 'permanent' : 'transient';
  if (status === 408) return 'transient';
  return apiRetryable === true ? 'transient' : 'permanent';
}
