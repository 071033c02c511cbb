import { describe, expect, it } from 'vitest';
import { type ActionEvent } from '../../src/model.js';
import {
  decodeActionEvent,
  decodeEntry,
  decodeEvent,
  encodeEvent,
  EVENT_FIELD,
} from '../../src/store/event-codec.js';

describe('event encoding', () => {
  it('round-trips, keeping nulls and numbers', () => {
    const event: ActionEvent = {
      type: 'action.failed',
      actor: 'alice',
      account_id: 'dprov_x',
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
      superseded_by: null,
      attempts: 1,
      at: '2026-11-28T00:00:00.000Z',
    };
    expect(decodeEvent('1-0', encodeEvent(event))).toEqual({ ...event, id: '1-0' });
    expect(
      decodeActionEvent('2-0', encodeEvent({ ...event, http_status: null })).http_status,
    ).toBeNull();
  });

  it('keeps a superseded event with the key that replaced it', () => {
    const event: ActionEvent = {
      type: 'action.superseded',
      actor: 'alice',
      account_id: 'dprov_x',
      action: 'deactivate',
      idempotency_key: 'old',
      job_id: 'k-old@1',
      source: 'breaker',
      source_ref: 'trip-1',
      reason: '',
      http_status: null,
      error_code: null,
      error_message: null,
      request_id: null,
      account_status: null,
      superseded_by: 'new',
      attempts: 0,
      at: '2026-11-28T00:00:00.000Z',
    };
    expect(decodeEvent('3-0', encodeEvent(event))).toEqual({ ...event, id: '3-0' });
  });

  it('refuses an entry of an unknown type rather than mislabel it', () => {
    expect(() => decodeEvent('4-0', JSON.stringify({ type: 'action.exploded' }))).toThrow(
      /unknown type "action.exploded"/,
    );
    expect(() => decodeEvent('5-0', '{not json')).toThrow(/not JSON/);
  });

  it('reads a stream entry by its one field, and names what is missing', () => {
    const json = JSON.stringify({ type: 'action.succeeded', account_id: 'dprov_x' });
    expect(decodeEntry('6-0', [EVENT_FIELD, json])).toMatchObject({
      id: '6-0',
      type: 'action.succeeded',
      account_id: 'dprov_x',
    });
    expect(() => decodeEntry('7-0', ['type', 'action.succeeded'])).toThrow(/no "event" field/);
  });
});
