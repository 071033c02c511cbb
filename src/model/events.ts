/**
 * Events on the stream: the event types, an intent's terminal events (`action.*`) and the union
 * of everything on the stream; the breaker's events are in breaker-events.ts, the windows' in
 * window-events.ts. The glossary of docs/architecture.md says what each word means.
 */
import type { BreakerEvent } from './breaker-events.js';
import type { Action, Source } from './intent.js';
import type { WindowEvent } from './window-events.js';

/** The terminal event types of an intent: each intent gets exactly one. */
export const ACTION_EVENT_TYPES = [
  'action.succeeded',
  'action.failed',
  'action.superseded',
  'action.cancelled',
] as const;
/** What the bounce-spike breaker says on the stream. */
export const BREAKER_EVENT_TYPES = [
  'breaker.tripped',
  'breaker.reset',
  'breaker.half_open',
  'breaker.closed',
  'breaker.warned',
  'breaker.would_trip',
  'breaker.mode_changed',
] as const;
/** What maintenance windows say on the stream. */
export const WINDOW_EVENT_TYPES = [
  'window.started',
  'window.ended',
  'window.skipped',
  'window.failed',
  'window.deleted',
] as const;
/** Event types on the stream. */
export const EVENT_TYPES = [
  ...ACTION_EVENT_TYPES,
  ...BREAKER_EVENT_TYPES,
  ...WINDOW_EVENT_TYPES,
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * What every event says about its intent. Field names are snake_case and stable: other
 * processes and users read them. Every field is present in every event (null when it does not
 * apply), so one JSON shape serves every type; the union below narrows by `type`.
 */
interface EventCommon {
  /** Stream entry id (`<ms>-<seq>`), set when read. */
  id?: string;
  account_id: string;
  action: Action;
  idempotency_key: string;
  job_id: string;
  source: Source;
  source_ref: string | null;
  /** Who asked for the intent (model/actor.ts); null for intents of older versions. */
  actor: string | null;
  reason: string;
  /** Calls started for this intent (attempts), counting the last one. */
  attempts: number;
  /** ISO 8601 time the outcome was recorded. */
  at: string;
}

/** The API carried out the action (or the account already was in the asked state). */
export interface ActionSucceededEvent extends EventCommon {
  type: 'action.succeeded';
  http_status: number;
  error_code: null;
  error_message: null;
  request_id: string | null;
  /** The account's status after the action (`inactive`, `active`, `pending`...). */
  account_status: string | null;
  superseded_by: null;
}

/** The action did not happen: a permanent API error, or retries ran out. */
export interface ActionFailedEvent extends EventCommon {
  type: 'action.failed';
  /** HTTP status of the last answer; null when none came (network error, timeout). */
  http_status: number | null;
  error_code: string;
  error_message: string;
  request_id: string | null;
  account_status: null;
  superseded_by: null;
}

/** A newer intent for the same account arrived before this one ran: it never called the API. */
export interface ActionSupersededEvent extends EventCommon {
  type: 'action.superseded';
  http_status: null;
  error_code: null;
  error_message: null;
  request_id: null;
  account_status: null;
  /** The idempotency key of the newer intent. */
  superseded_by: string;
}

/** Cancelled before it ran (`batch cancel`): it never called the API. */
export interface ActionCancelledEvent extends EventCommon {
  type: 'action.cancelled';
  http_status: null;
  error_code: null;
  error_message: null;
  request_id: null;
  account_status: null;
  superseded_by: null;
}

export type ActionEvent =
  ActionSucceededEvent | ActionFailedEvent | ActionSupersededEvent | ActionCancelledEvent;

/** Anything on the events stream; narrow by `type`. */
export type StreamEvent = ActionEvent | BreakerEvent | WindowEvent;

export function isActionEvent(event: StreamEvent): event is ActionEvent {
  return event.type.startsWith('action.');
}
