import { describe, expect, it } from 'vitest';
import { readAccountAnswer } from '../../../src/sendmux/account-answer.js';

const body = (data: Record<string, unknown>) => ({
  ok: true,
  data: {
    id: 'dprov_a',
    status: 'inactive',
    is_active: false,
    status_reason: 'Deactivated via API',
    updated_at: '2026-11-28T10:00:00Z',
    ...data,
  },
  meta: { request_id: 'req_1' },
});

describe('readAccountAnswer', () => {
  it('reads a contract-valid answer without problems', () => {
    expect(readAccountAnswer(body({}))).toEqual({
      account: {
        id: 'dprov_a',
        status: 'inactive',
        is_active: false,
        status_reason: 'Deactivated via API',
        updated_at: '2026-11-28T10:00:00Z',
        problems: [],
      },
      requestId: 'req_1',
    });
  });

  it('keeps a status value it does not know, and says so', () => {
    const { account } = readAccountAnswer(body({ status: 'disabled' }));
    expect(account.status).toBe('disabled');
    expect(account.problems).toEqual(['data.status: unknown value "disabled" (kept as is)']);
  });

  it('reads what it can from a body that changed shape', () => {
    const { account, requestId } = readAccountAnswer({
      ok: true,
      data: { id: 'dprov_a', is_active: 'no' },
    });
    expect(account).toMatchObject({
      id: 'dprov_a',
      status: null,
      is_active: null,
      updated_at: null,
    });
    expect(account.problems).toEqual(
      expect.arrayContaining([
        'data.status: expected a string',
        'data.is_active: expected a boolean',
      ]),
    );
    expect(requestId).toBeNull();
  });

  it('never throws, even on a body that is not JSON', () => {
    expect(readAccountAnswer(undefined).account).toMatchObject({
      id: null,
      problems: ['(body): not a JSON object'],
    });
    expect(readAccountAnswer([1, 2]).account.problems).toHaveLength(1);
  });
});
