import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent, type ActionEvent } from '../../src/events/types.js';

describe('event encoding', () => {
  it('round-trips, keeping nulls and numbers', () => {
    const event: ActionEvent = {
      type: 'action.failed',
      provider_id: 'dprov_x',
      action: 'deactivate',
      idempotency_key: 'k:1',
      job_id: 'k-k%3A1',
      source: 'manual',
      source_ref: null,
      reason: 'bounce spike',
      http_status: 404,
      error_code: 'not_found',
      error_message: 'Sending account not found',
      request_id: 'req_abc',
      account_status: null,
      attempts: 1,
      at: '2026-11-28T00:00:00.000Z',
    };
    expect(decodeEvent('1-0', encodeEvent(event))).toEqual({ ...event, id: '1-0' });
    expect(decodeEvent('2-0', encodeEvent({ ...event, http_status: null })).http_status).toBeNull();
  });
});
