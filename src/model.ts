/**
 * The types of the project's words: actions, sources, intents, intent states, events, holds.
 * What each word means is defined once, in the glossary of docs/architecture.md.
 */
import { z } from 'zod';
import { IntentValidationError } from './errors.js';

export const ACTIONS = ['deactivate', 'activate'] as const;
export const SOURCES = ['manual', 'bulk', 'breaker', 'window'] as const;
export type Action = (typeof ACTIONS)[number];
export type Source = (typeof SOURCES)[number];

/**
 * Versions 0.1.x named the source `window` `maintenance`. What they stored (bindings and
 * their fingerprints, holds, events, statuses, queued jobs) is read as `window`: every reader
 * goes through {@link normalizeSource}, and a stored fingerprint through
 * {@link sameFingerprint}, so a window's key bound by an older version is no conflict.
 */
export const LEGACY_SOURCES: Readonly<Record<string, Source>> = { maintenance: 'window' };

/** A source as stored by this or an older version, in today's words. */
export function normalizeSource<S extends string | null | undefined>(source: S): S | Source {
  return (typeof source === 'string' && LEGACY_SOURCES[source]) || source;
}

export const ACCOUNT_ID_RULE = /^dprov_[A-Za-z0-9_-]{1,128}$/;
/** The longest id {@link ACCOUNT_ID_RULE} allows. */
export const ACCOUNT_ID_MAX_LENGTH = 'dprov_'.length + 128;
export const ACCOUNT_ID_RULE_TEXT =
  'must be a sending account id: "dprov_" then 1..128 letters, digits, "_" or "-"';
/** Header-safe: visible ASCII only (no spaces, no control characters). */
export const IDEMPOTENCY_KEY_RULE = /^[\x21-\x7e]{1,255}$/;

export const intentSchema = z.object({
  action: z.enum(ACTIONS, { error: 'must be "deactivate" or "activate"' }),
  accountId: z.string().regex(ACCOUNT_ID_RULE, { error: ACCOUNT_ID_RULE_TEXT }),
  idempotencyKey: z.string().regex(IDEMPOTENCY_KEY_RULE, {
    error: 'must be 1..255 visible ASCII characters (no spaces)',
  }),
  source: z.enum(SOURCES, { error: `must be one of ${SOURCES.join(', ')}` }),
  /** What inside the source asked for it (bulk run id, breaker trip, window id). */
  sourceRef: z.string().max(200, { error: 'must be at most 200 characters' }).optional(),
  reason: z.string().max(500, { error: 'must be at most 500 characters' }).default(''),
});

/** A validated intent. */
export type Intent = z.output<typeof intentSchema>;
/** What a producer passes in; `reason` may be left out. */
export type IntentInput = z.input<typeof intentSchema>;

/** Field names as users see them (CLI flags / JSON fields). */
const FIELD_NAMES: Record<string, string> = {
  action: 'action',
  accountId: 'account_id',
  idempotencyKey: 'idempotency_key',
  source: 'source',
  sourceRef: 'source_ref',
  reason: 'reason',
};

function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Validate intents; throws {@link IntentValidationError} naming the item (from 1), the field,
 * the bad value and the rule.
 */
export function parseIntents(inputs: readonly IntentInput[]): Intent[] {
  const problems: string[] = [];
  const out: Intent[] = [];
  inputs.forEach((input, index) => {
    const parsed = intentSchema.safeParse(input);
    if (parsed.success) {
      out.push(parsed.data);
      return;
    }
    const where = inputs.length > 1 ? `item ${index + 1}: ` : '';
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String);
      const field = path.map((p) => FIELD_NAMES[p] ?? p).join('.');
      const value: unknown =
        path.length === 1 ? (input as Record<string, unknown>)[path[0] ?? ''] : undefined;
      const got = value === undefined ? '' : ` (got "${shown(value)}")`;
      problems.push(`${where}${field || 'intent'} ${issue.message}${got}`);
    }
  });
  if (problems.length > 0) throw new IntentValidationError(problems);
  return out;
}

/**
 * What makes two intents "the same" for an idempotency key: the call it makes (action, account)
 * and who asked (source). The reason is free text and may be reworded on a retry.
 */
export function fingerprint(intent: Pick<Intent, 'action' | 'accountId' | 'source'>): string {
  const [head, tail] = fingerprintParts(intent.action, intent.source);
  return `${head}${intent.accountId}${tail}`;
}

/**
 * Whether a stored fingerprint is `wanted`: equal, or equal once an older version's source word
 * is read as today's (`... by maintenance` is `... by window`). Lua does the same in
 * store/claim-keys.ts and store/known-state.ts (`sdxSameFp`).
 */
export function sameFingerprint(stored: string, wanted: string): boolean {
  return stored === wanted || stored.replace(/ by maintenance$/, ' by window') === wanted;
}

/** The fingerprint around the account id, for scripts that bind keys themselves. */
export function fingerprintParts(action: Action, source: Source): [string, string] {
  return [`${action} `, ` by ${source}`];
}

/**
 * What an account is, or is about to be, as far as the project knows; as an account's *base*:
 * what it would be without the project's holds (store/holds.ts).
 */
export const BASE_STATES = ['active', 'inactive', 'unknown'] as const;
export type BaseState = (typeof BASE_STATES)[number];

/** Where an intent stands: `queued` until exactly one terminal state is recorded. */
export const INTENT_STATES = ['queued', 'succeeded', 'failed', 'superseded', 'cancelled'] as const;
export type IntentState = (typeof INTENT_STATES)[number];
export const TERMINAL_STATES = ['succeeded', 'failed', 'superseded', 'cancelled'] as const;
export type TerminalState = (typeof TERMINAL_STATES)[number];
export function isTerminal(state: string | undefined): state is TerminalState {
  return (TERMINAL_STATES as readonly string[]).includes(state ?? '');
}

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
] as const;
/** What maintenance windows say on the stream. */
export const WINDOW_EVENT_TYPES = [
  'window.started',
  'window.ended',
  'window.skipped',
  'window.failed',
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

/** Signal outcomes the breaker counts (a bounce is hard when its type is `Permanent`). */
export const SIGNAL_OUTCOMES = ['delivered', 'bounced', 'complained', 'rejected'] as const;
export type SignalOutcome = (typeof SIGNAL_OUTCOMES)[number];

/** An account's counts over the breaker's window, and the rates its rules read. */
export interface BreakerNumbers {
  window_s: number;
  delivered: number;
  /** Every bounce: hard (Permanent) and the others. */
  bounced: number;
  hard_bounced: number;
  complained: number;
  rejected: number;
  /** hard_bounced / (delivered + bounced); null with no such outcome. */
  bounce_rate: number | null;
  /** complained / delivered; null with nothing delivered. */
  complaint_rate: number | null;
}

/** Why a breaker tripped: a rule crossed, or an operator asked. */
export const TRIP_REASONS = ['bounce_rate', 'complaint_rate', 'manual'] as const;
export type TripReason = (typeof TRIP_REASONS)[number];

/**
 * The breaker switched an account off: it holds the account off (hold `breaker`) and asked
 * for the deactivation (`idempotency_key`, source `breaker`, source_ref = the trip id).
 */
export interface BreakerTrippedEvent {
  id?: string;
  type: 'breaker.tripped';
  account_id: string;
  trip_id: string;
  reason: TripReason;
  /** The counts that crossed the rule (at the time of a manual trip, for the record). */
  numbers: BreakerNumbers;
  idempotency_key: string;
  at: string;
}

/**
 * An operator reset the breaker: its hold is released; the account is asked to come back on
 * (`idempotency_key`) only if nothing else holds it off and it was on before the first hold.
 */
export interface BreakerResetEvent {
  id?: string;
  type: 'breaker.reset';
  account_id: string;
  trip_id: string;
  /** The activate intent's key; null when the account stays off. */
  idempotency_key: string | null;
  /** The other holds that keep the account off (their ids). */
  still_held_by: string[];
  /**
   * The account's base, when that was its last hold: `active` is switched back on; `inactive`
   * and `unknown` stay off (an `unknown` base is never switched on by itself: `activate` does).
   * Null while other holds keep it off.
   */
  base: BaseState | null;
  at: string;
}

/**
 * The cooldown after a trip ran out (BREAKER_COOLDOWN_S): the breaker's hold is released and the
 * account asked back on under the same conditions as a reset; the breaker watches it. A trip
 * while half-open opens it again with twice the cooldown.
 */
export interface BreakerHalfOpenEvent {
  id?: string;
  type: 'breaker.half_open';
  account_id: string;
  trip_id: string;
  idempotency_key: string | null;
  still_held_by: string[];
  /** The cooldown that just ran out (s). */
  cooldown_s: number;
  /** As in `breaker.reset`. */
  base: BaseState | null;
  at: string;
}

/** A half-open breaker watched its account for BREAKER_HALF_OPEN_WATCH_S without a trip. */
export interface BreakerClosedEvent {
  id?: string;
  type: 'breaker.closed';
  account_id: string;
  trip_id: string;
  idempotency_key: null;
  at: string;
}

export type BreakerEvent =
  BreakerTrippedEvent | BreakerResetEvent | BreakerHalfOpenEvent | BreakerClosedEvent;

/**
 * An occurrence of a maintenance window began: every account was read from the API and held
 * off (hold `window:<window id>:<occurrence>`); the active ones were asked off (keys
 * `window:<window id>:<occurrence>:<account>`).
 */
export interface WindowStartedEvent {
  id?: string;
  type: 'window.started';
  window_id: string;
  /** The occurrence's id: its start time, `YYYYMMDDTHHMMSSZ` (UTC). */
  occurrence: string;
  starts_at: string;
  ends_at: string;
  /** How late the start ran (ms): a start missed while everything was down runs late. */
  late_ms: number;
  /** Accounts that were on and are asked off by this occurrence. */
  switched_off: string[];
  /**
   * Accounts that were on but left on: reading the accounts (or a start that kept failing)
   * ran past the occurrence's end, so nothing was asked off.
   */
  not_switched_off: string[];
  /** Accounts that were off already: held, not touched. */
  already_off: string[];
  /** Accounts the API does not know (404): nothing done. */
  missing: string[];
  at: string;
}

/**
 * An occurrence ended (its time ran out, or it was cancelled or cut short): its holds are
 * released; an account is asked back on (key `...:<account>:end`) only when that was its last
 * hold and it was on before the first one.
 */
export interface WindowEndedEvent {
  id?: string;
  type: 'window.ended';
  window_id: string;
  occurrence: string;
  starts_at: string;
  ends_at: string;
  /** Accounts asked back on. */
  reactivated: string[];
  /** Accounts other holds keep off, with those holds' ids. */
  still_held: { account_id: string; held_by: string[] }[];
  /** Accounts that stay off because their base is `inactive` (off without the project's holds). */
  stayed_off: string[];
  /**
   * Accounts that stay off because their base is unknown (never read, nothing recorded): an
   * `unknown` base is never switched on by itself; `sendmux-deactivator activate <id>` does.
   */
  base_unknown: string[];
  /** Accounts whose hold of this occurrence was gone already (nothing to release). */
  gone: string[];
  /** Ended before its time by `window cancel`. */
  cancelled: boolean;
  at: string;
}

/** An occurrence that never started: it had ended before anything could start it. */
export interface WindowSkippedEvent {
  id?: string;
  type: 'window.skipped';
  window_id: string;
  occurrence: string;
  starts_at: string;
  ends_at: string;
  reason: 'ended_before_start';
  at: string;
}

/**
 * A window's step left targets in the wrong state: a start that could not switch them off
 * (its occurrence was over first), an end that could not ask them back on. Forwarded as a
 * failure notification and shown on the status page.
 */
export interface WindowFailedEvent {
  id?: string;
  type: 'window.failed';
  window_id: string;
  occurrence: string;
  step: 'start' | 'end';
  account_ids: string[];
  why: string;
  at: string;
}

export type WindowEvent =
  WindowStartedEvent | WindowEndedEvent | WindowSkippedEvent | WindowFailedEvent;

/** Anything on the events stream; narrow by `type`. */
export type StreamEvent = ActionEvent | BreakerEvent | WindowEvent;

export function isActionEvent(event: StreamEvent): event is ActionEvent {
  return event.type.startsWith('action.');
}

/**
 * A hold: one reason an account must stay off, taken and released by its own source. An
 * account is reactivated only when its last hold is released, and only if it was on before
 * the first hold was taken.
 */
export interface Hold {
  /** Unique per account: `breaker`, `window:<id>`, `bulk:<batch>`, `manual`... */
  id: string;
  source: Source;
  /** What inside the source took it (trip id, window id, batch id). */
  ref: string | null;
  reason: string;
  /** ISO 8601 time it was taken. */
  at: string;
}

/**
 * What the API said about an account after a call or a read: the part of its state this
 * project records. Read leniently: an enum value Sendmux adds later is kept as a string.
 */
export interface AccountState {
  status: string | null;
  is_active: boolean | null;
  status_reason: string | null;
  updated_at: string | null;
}

/** Whether an account already is where an action would put it. */
export function isInAskedState(action: Action, account: AccountState): boolean {
  if (action === 'deactivate') {
    return (
      account.status === 'inactive' || (account.status === null && account.is_active === false)
    );
  }
  // An OAuth account without a live connection goes to `pending` when activated.
  return (
    account.status === 'active' ||
    account.status === 'pending' ||
    (account.status === null && account.is_active === true)
  );
}
