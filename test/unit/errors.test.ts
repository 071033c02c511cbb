/** One problem, one answer: the same error gives the same CLI exit code and HTTP status. */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  exitCodeOf,
  httpStatusOf,
  IdempotencyKeyConflictError,
  IntentValidationError,
  UsageError,
} from '../../src/errors.js';
import { SendmuxError } from '../../src/sendmux/errors.js';

describe('exitCodeOf / httpStatusOf', () => {
  it.each([
    [new ConfigError(['LOG_LEVEL: must be one of ...']), 'invalid_config', 2, 500],
    [new UsageError('--wait-timeout: needs --wait'), 'invalid_usage', 2, 400],
    [new IntentValidationError(['provider_id must be ...']), 'invalid_intent', 2, 400],
    [new IdempotencyKeyConflictError('k', 'a', 'b'), 'idempotency_key_conflict', 2, 409],
  ] as const)('%s -> %s, exit %i, HTTP %i', (err, code, exit, status) => {
    expect(err.code).toBe(code);
    expect(exitCodeOf(err)).toBe(exit);
    expect(httpStatusOf(err)).toBe(status);
  });

  it('anything else is a runtime failure: exit 1, HTTP 500', () => {
    const api = new SendmuxError({ status: 503, code: 'service_unavailable', message: 'x' });
    for (const err of [new Error('boom'), api, 'a string']) {
      expect(exitCodeOf(err)).toBe(1);
      expect(httpStatusOf(err)).toBe(500);
    }
  });

  it('keeps the configuration problem on one line', () => {
    const err = new ConfigError(['A: rule one', 'B: rule two']);
    expect(err.message).toBe('invalid configuration: A: rule one; B: rule two');
  });
});
