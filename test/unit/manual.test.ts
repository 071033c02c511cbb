import { describe, expect, it } from 'vitest';
import { IntentValidationError } from '../../src/errors.js';
import { manualIntents } from '../../src/producers/manual.js';

describe('manualIntents', () => {
  it('asks once per account, says which were repeated, and gives each its own key', () => {
    const { intents, repeated } = manualIntents({
      action: 'deactivate',
      accountIds: ['dprov_a', 'dprov_b', 'dprov_a', 'dprov_a'],
      reason: 'r',
    });
    expect(intents.map((i) => i.accountId)).toEqual(['dprov_a', 'dprov_b']);
    expect(repeated).toEqual(['dprov_a']);
    expect(new Set(intents.map((i) => i.idempotencyKey)).size).toBe(2);
    expect(intents[0]).toMatchObject({ action: 'deactivate', source: 'manual', reason: 'r' });
    expect(intents[0]?.idempotencyKey).toMatch(/^deactivate-[0-9a-f-]{36}$/);
  });

  it('takes a key only with exactly one account (a repeat of it counts once)', () => {
    expect(
      manualIntents({ action: 'activate', accountIds: ['dprov_a', 'dprov_a'], key: 'k' }).intents,
    ).toEqual([expect.objectContaining({ idempotencyKey: 'k' })]);
    expect(() =>
      manualIntents({ action: 'activate', accountIds: ['dprov_a', 'dprov_b'], key: 'k' }),
    ).toThrow(/idempotency_key: can only be given with exactly one account id \(got 2\)/);
    expect(() => manualIntents({ action: 'activate', accountIds: [] })).toThrow(
      IntentValidationError,
    );
  });
});
