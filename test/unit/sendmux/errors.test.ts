import { describe, expect, it } from 'vitest';
import { classifyFailure, SendmuxError } from '../../../src/sendmux/errors.js';
import { parseRateLimit, parseRetryAfter } from '../../../src/sendmux/rate-limit-headers.js';

describe('classifyFailure', () => {
  it.each([
    [429, 'rate_limit_exceeded', true, 'rate_limited'],
    [409, 'idempotency_conflict', false, 'in_flight'],
    [500, 'internal_error', true, 'transient'],
    [503, 'service_unavailable', true, 'transient'],
    [502, 'whatever', undefined, 'transient'],
    [500, 'internal_error', false, 'permanent'],
    [503, 'service_unavailable', false, 'permanent'],
    [401, 'authentication_required', false, 'auth'],
    [403, 'insufficient_permissions', false, 'auth'],
    [404, 'not_found', false, 'permanent'],
    [409, 'conflict', false, 'permanent'],
    [409, 'limit_exceeded', false, 'permanent'],
    [422, 'validation_error', false, 'permanent'],
    [400, 'invalid_parameter', false, 'permanent'],
    [418, 'future_code', true, 'transient'],
  ] as const)('%i %s (api retryable %s) is %s', (status, code, apiRetryable, kind) => {
    expect(classifyFailure(status, code, apiRetryable)).toBe(kind);
  });

  it('treats network errors and timeouts as transient', () => {
    expect(classifyFailure(null, 'network_error')).toBe('transient');
    expect(classifyFailure(null, 'timeout')).toBe('transient');
  });

  it('exposes retryable and serialises without secrets', () => {
    const err = new SendmuxError({
      status: 404,
      code: 'not_found',
      message: 'nope',
      requestId: 'req_1',
    });
    expect(err.retryable).toBe(false);
    expect(err.name).toBe('SendmuxError');
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({
      status: 404,
      code: 'not_found',
      kind: 'permanent',
      request_id: 'req_1',
    });
  });
});

describe('rate-limit headers', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-28T00:00:00Z');
    expect(parseRetryAfter({ 'retry-after': '7' }, now)).toBe(7_000);
    expect(parseRetryAfter({ 'retry-after': 'Sat, 28 Nov 2026 00:00:30 GMT' }, now)).toBe(30_000);
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
  });

  it('reads X-RateLimit-* only when all three are valid', () => {
    expect(
      parseRateLimit({
        'x-ratelimit-limit': '600',
        'x-ratelimit-remaining': '3',
        'x-ratelimit-reset': '1790000000',
      }),
    ).toEqual({
      limit: 600,
      remaining: 3,
      resetAtMs: 1_790_000_000_000,
    });
    expect(
      parseRateLimit({ 'x-ratelimit-limit': '600', 'x-ratelimit-remaining': '3' }),
    ).toBeUndefined();
    expect(
      parseRateLimit({
        'x-ratelimit-limit': 'x',
        'x-ratelimit-remaining': '3',
        'x-ratelimit-reset': '1',
      }),
    ).toBeUndefined();
  });
});
