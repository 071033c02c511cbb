import { describe, expect, it } from 'vitest';
import { IntentValidationError } from '../../src/errors.js';
import { fingerprint, isInAskedState, parseIntents } from '../../src/model.js';

const ok = {
  action: 'deactivate',
  accountId: 'dprov_abc123',
  idempotencyKey: 'key-1',
  source: 'manual',
} as const;

describe('parseIntents', () => {
  it('accepts a valid intent and defaults the reason', () => {
    expect(parseIntents([ok])).toEqual([{ ...ok, reason: '' }]);
  });

  it.each([
    [{ accountId: 'abc' }, 'account_id must be a sending account id'],
    [{ accountId: 'dprov_has space' }, 'account_id must be a sending account id'],
    [{ idempotencyKey: '' }, 'idempotency_key must be 1..255 visible ASCII characters'],
    [{ idempotencyKey: 'k'.repeat(256) }, 'idempotency_key must be 1..255'],
    [{ idempotencyKey: 'has space' }, 'idempotency_key must be 1..255'],
    [{ action: 'delete' }, 'action must be "deactivate" or "activate"'],
    [{ source: 'robot' }, 'source must be one of manual, bulk, breaker, window'],
    [{ reason: 'r'.repeat(501) }, 'reason must be at most 500 characters'],
  ])('rejects %o naming field and rule', (patch, message) => {
    expect(() => parseIntents([{ ...ok, ...patch } as typeof ok])).toThrow(message);
  });

  it('reports every bad item of a batch with its position (from 1) and the bad value', () => {
    try {
      parseIntents([ok, { ...ok, accountId: 'x' }, { ...ok, idempotencyKey: '' }]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(IntentValidationError);
      const problems = (err as IntentValidationError).problems;
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(/^item 2: account_id must be a sending account id.*\(got "x"\)$/);
      expect(problems[1]).toMatch(/^item 3: idempotency_key must be 1\.\.255/);
    }
  });
});

describe('fingerprint', () => {
  it('differs by action, account and source but not by reason', () => {
    const base = fingerprint(ok);
    expect(fingerprint({ ...ok, action: 'activate' })).not.toBe(base);
    expect(fingerprint({ ...ok, accountId: 'dprov_other' })).not.toBe(base);
    expect(fingerprint({ ...ok, source: 'bulk' })).not.toBe(base);
    const reworded = { ...ok, reason: 'said differently' };
    expect(fingerprint(reworded)).toBe(base);
  });
});

describe('isInAskedState', () => {
  const state = (status: string | null, is_active: boolean | null) => ({
    status,
    is_active,
    status_reason: null,
    updated_at: null,
  });
  it.each([
    ['deactivate', state('inactive', false), true],
    ['deactivate', state('active', true), false],
    ['deactivate', state('error', false), false],
    ['deactivate', state(null, false), true],
    ['activate', state('active', true), true],
    ['activate', state('pending', false), true],
    ['activate', state('inactive', false), false],
    ['activate', state('disabled', null), false],
  ] as const)('%s with %o -> %s', (action, account, expected) => {
    expect(isInAskedState(action, account)).toBe(expected);
  });
});
