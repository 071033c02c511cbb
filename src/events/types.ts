/**
 * Events: an append-only record (Redis Stream) of what happened to actions.
 * Field names are snake_case and stable: they are read by other processes and by users.
 */
import type { Action, Source } from '../actions/intent.js';

export const EVENT_TYPES = ['action.succeeded', 'action.failed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface ActionEvent {
  /** Stream entry id (`<ms>-<seq>`), set when read. */
  id?: string;
  type: EventType;
  provider_id: string;
  action: Action;
  idempotency_key: string;
  job_id: string;
  source: Source;
  source_ref: string | null;
  reason: string;
  /** HTTP status of the last answer; null when none came (network error, timeout). */
  http_status: number | null;
  /** Sendmux error code (or transport code) for failures; null for successes. */
  error_code: string | null;
  error_message: string | null;
  request_id: string | null;
  /** Account status after a success (`inactive`, `active`, `pending`...), else null. */
  account_status: string | null;
  /** Attempts made, counting this one. */
  attempts: number;
  /** ISO 8601 time the outcome was recorded. */
  at: string;
}

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
  return {
    id,
    type: str('type') as EventType,
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
    attempts: num('attempts') ?? 0,
    at: str('at'),
  };
}
