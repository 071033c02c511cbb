/**
 * A failed Sendmux call as one {@link SendmuxError}: an HTTP answer outside 2xx (its error body,
 * Retry-After and rate-limit headers), or no answer at all (timeout, network error, abort); and
 * the small readers of an answer the client shares (header values, lenient JSON).
 */
import { RequestError } from 'got';
import { SendmuxError } from './errors.js';
import { PlainRequestError, type PlainResponse } from './plain-request.js';
import { parseRateLimit, parseRetryAfter } from './rate-limit-headers.js';
import { apiErrorSchema } from './schemas.js';

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function httpError(
  response: PlainResponse,
  json: unknown,
  requestIdHeader: string | undefined,
): SendmuxError {
  const now = Date.now();
  const rateLimit = parseRateLimit(response.headers);
  let retryAfterMs = parseRetryAfter(response.headers, now);
  if (response.statusCode === 429 && rateLimit) {
    // Never sooner than either header says.
    retryAfterMs = Math.max(retryAfterMs ?? 0, rateLimit.resetAtMs - now);
  }
  const parsed = apiErrorSchema.safeParse(json);
  if (!parsed.success) {
    return new SendmuxError({
      status: response.statusCode,
      code: response.statusCode >= 500 ? 'internal_error' : 'invalid_response',
      message: `HTTP ${response.statusCode} without a Sendmux error body`,
      requestId: requestIdHeader,
      retryAfterMs,
      rateLimit,
    });
  }
  const { error, meta } = parsed.data;
  return new SendmuxError({
    status: response.statusCode,
    code: error.code,
    message: error.message,
    apiRetryable: error.retryable,
    requestId: meta.request_id,
    retryAfterMs,
    rateLimit,
    param: error.param,
  });
}

/** Network errors, timeouts and resets: no answer, always transient. Carries no request options. */
export function transportError(err: unknown): SendmuxError {
  if (err instanceof PlainRequestError) {
    if (err.kind === 'aborted') {
      return new SendmuxError({ status: null, code: 'network_error', message: 'request aborted' });
    }
    const timeout = err.kind === 'timeout';
    return new SendmuxError({
      status: null,
      code: timeout ? 'timeout' : 'network_error',
      message: `${timeout ? 'timeout' : 'network error'}: ${err.code} ${err.message}`,
    });
  }
  if (err instanceof RequestError) {
    const timeout = err.name === 'TimeoutError' || err.code === 'ETIMEDOUT';
    return new SendmuxError({
      status: null,
      code: timeout ? 'timeout' : 'network_error',
      message: `${timeout ? 'timeout' : 'network error'}: ${err.code} ${err.message}`,
    });
  }
  if (err instanceof Error && err.name === 'AbortError') {
    return new SendmuxError({ status: null, code: 'network_error', message: 'request aborted' });
  }
  return new SendmuxError({
    status: null,
    code: 'network_error',
    message: err instanceof Error ? err.message : String(err),
  });
}
