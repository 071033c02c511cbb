/**
 * Names an older version wrote into data that outlives it: a job queued by 0.1.x (`providerId`,
 * source `maintenance`) and a signal in the 0.1.x shape (`provider_id`) read as today's.
 */
import { describe, expect, it } from 'vitest';
import { IntentValidationError } from '../../src/errors.js';
import { parseSignal } from '../../src/producers/breaker/signals.js';
import { jobIntent, type ActionJobData } from '../../src/queue/queue.js';

const A = 'dprov_legacy_a';
const signal = { id: 'evt_1', outcome: 'delivered', occurred_at: '2026-12-07T10:00:00Z' };

describe('jobIntent', () => {
  it("reads a 0.1.x job's providerId and maintenance source as accountId and window", () => {
    const old = {
      action: 'activate',
      providerId: A,
      idempotencyKey: 'k1',
      source: 'maintenance',
      reason: '',
      seq: 3,
    } as unknown as ActionJobData;
    const read = jobIntent(old);
    expect(read).toEqual({
      action: 'activate',
      accountId: A,
      idempotencyKey: 'k1',
      source: 'window',
      reason: '',
      seq: 3,
    });
    expect(read).not.toHaveProperty('providerId');
  });

  it("returns today's job data as it is", () => {
    const data: ActionJobData = {
      action: 'deactivate',
      accountId: A,
      idempotencyKey: 'k2',
      source: 'manual',
      reason: 'r',
      seq: 1,
    };
    expect(jobIntent(data)).toBe(data);
  });
});

describe('parseSignal', () => {
  it('takes account_id, and reads provider_id when account_id is absent', () => {
    expect(parseSignal({ ...signal, account_id: A }).account_id).toBe(A);
    const old = parseSignal({ ...signal, provider_id: A });
    expect(old.account_id).toBe(A);
    expect(old).not.toHaveProperty('provider_id');
  });

  it('refuses a signal naming the account twice, and a bad old id by its rule', () => {
    expect(() => parseSignal({ ...signal, account_id: A, provider_id: A })).toThrow(
      IntentValidationError,
    );
    expect(() => parseSignal({ ...signal, provider_id: 'nope' })).toThrow(
      /account_id: must be a sending account id/,
    );
  });
});
