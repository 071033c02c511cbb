/**
 * Events on the Redis Stream: one field list for encoding and decoding, so the two cannot drift.
 * Null is stored as an empty string.
 */
import {
  EVENT_TYPES,
  type Action,
  type ActionEvent,
  type EventType,
  type Source,
} from '../model.js';

const FIELDS = [
  'type',
  'provider_id',
  'action',
  'idempotency_key',
  'job_id',
  'source',
  'source_ref',
  'reason',
  'http_status',
  'error_code',
  'error_message',
  'request_id',
  'account_status',
  'superseded_by',
  'attempts',
  'at',
] as const satisfies readonly (keyof ActionEvent)[];

/** Flatten to XADD field/value pairs; null becomes an empty string. */
export function encodeEvent(event: ActionEvent): string[] {
  const out: string[] = [];
  for (const field of FIELDS) {
    const value = event[field];
    out.push(field, value === null ? '' : String(value));
  }
  return out;
}

/** Rebuild an event from a stream entry's flat field list. */
export function decodeEvent(id: string, flat: readonly string[]): ActionEvent {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i] ?? '', flat[i + 1] ?? '');
  const str = (k: string) => m.get(k) ?? '';
  const nullable = (k: string) => (m.get(k) ? (m.get(k) ?? null) : null);
  const num = (k: string) => (m.get(k) ? Number(m.get(k)) : null);
  const type = str('type');
  if (!(EVENT_TYPES as readonly string[]).includes(type)) {
    throw new Error(`event ${id} has an unknown type "${type}"`);
  }
  return {
    id,
    type: type as EventType,
    provider_id: str('provider_id'),
    action: str('action') as Action,
    idempotency_key: str('idempotency_key'),
    job_id: str('job_id'),
    source: str('source') as Source,
    source_ref: nullable('source_ref'),
    reason: str('reason'),
    http_status: num('http_status'),
    error_code: nullable('error_code'),
    error_message: nullable('error_message'),
    request_id: nullable('request_id'),
    account_status: nullable('account_status'),
    superseded_by: nullable('superseded_by'),
    attempts: num('attempts') ?? 0,
    at: str('at'),
  } as ActionEvent;
}
