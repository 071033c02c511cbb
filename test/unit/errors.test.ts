/**
 * One problem, one answer: each error code has one HTTP status and one exit code (errors.ts),
 * and the README prints that table as it is.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ERRORS,
  EXIT,
  EXIT_MEANINGS,
  errorCodeOf,
  exitCodeOf,
  httpStatusOf,
  IdempotencyKeyConflictError,
  IntentValidationError,
  InvalidInputError,
  NotFoundError,
  StateConflictError,
  UsageError,
} from '../../src/errors.js';
import { SendmuxError } from '../../src/sendmux/errors.js';
import { errorTablesMarkdown } from '../support/error-table.js';

describe('exitCodeOf / httpStatusOf', () => {
  it.each([
    [new ConfigError(['LOG_LEVEL: must be one of ...']), 'invalid_config', 2, 503],
    [new UsageError('--wait-timeout: needs --wait'), 'invalid_input', 2, 400],
    [new IntentValidationError(['account_id must be ...']), 'invalid_input', 2, 400],
    [new InvalidInputError('ids.txt', 1, ['line 1: ...']), 'invalid_input', 2, 400],
    [new NotFoundError('window "w": no such window'), 'not_found', 4, 404],
    [new StateConflictError('the breaker of x is not open'), 'state_conflict', 1, 409],
    [new IdempotencyKeyConflictError('k', 'a', 'b'), 'idempotency_key_conflict', 1, 409],
  ] as const)('%s -> %s, exit %i, HTTP %i', (err, code, exit, status) => {
    expect(err.code).toBe(code);
    expect(errorCodeOf(err)).toBe(code);
    expect(exitCodeOf(err)).toBe(exit);
    expect(httpStatusOf(err)).toBe(status);
  });

  it('anything else is internal_error: exit 1, HTTP 500', () => {
    const api = new SendmuxError({ status: 503, code: 'service_unavailable', message: 'x' });
    for (const err of [new Error('boom'), api, 'a string']) {
      expect(errorCodeOf(err)).toBe('internal_error');
      expect(exitCodeOf(err)).toBe(1);
      expect(httpStatusOf(err)).toBe(500);
    }
  });

  it('keeps the configuration problem on one line', () => {
    const err = new ConfigError(['A: rule one', 'B: rule two']);
    expect(err.message).toBe('invalid configuration: A: rule one; B: rule two');
  });
});

describe('the table', () => {
  it('maps every code to an exit code the CLI defines, each with its meaning', () => {
    const exits: number[] = Object.values(EXIT);
    expect(Object.keys(EXIT_MEANINGS).map(Number).sort()).toEqual([...exits].sort());
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(exits, code).toContain(e.exit);
      expect(e.http >= 400 && e.http < 600, code).toBe(true);
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    }
  });

  it('is printed in the README as it is', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const begin = '<!-- error-table: begin -->';
    const end = '<!-- error-table: end -->';
    expect(readme).toContain(begin);
    const printed = readme.slice(readme.indexOf(begin) + begin.length, readme.indexOf(end)).trim();
    expect(printed).toBe(errorTablesMarkdown());
  });
});
