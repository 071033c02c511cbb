/**
 * The breaker's words and events: signal outcomes, the counts and rates its rules read, trip
 * reasons, and its events on the stream (`breaker.*`). The glossary of docs/architecture.md says
 * what each word means.
 */
import type { BaseState } from './states.js';

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

/**
 * What a crossing of the trip level does (BREAKER_MODE, per account, or `breaker mode` at run
 * time): `act` trips; `warn` records `breaker.would_trip` and notifies; `watch` records
 * `breaker.would_trip` and nothing else.
 */
export const BREAKER_MODES = ['act', 'warn', 'watch'] as const;
export type BreakerMode = (typeof BREAKER_MODES)[number];

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
  /** Who tripped it: `breaker` (a rule crossed), or who asked for a manual trip. */
  actor: string | null;
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
  /** Who reset it (the CLI user or the admin token's name); null in events of older versions. */
  actor: string | null;
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

/**
 * A warning level crossed (BREAKER_BOUNCE_WARN_RATE, BREAKER_COMPLAINT_WARN_RATE), the trip
 * level not: said at most once per window per account, in every mode; notified (NOTIFY_URL)
 * unless the account's mode is `watch`.
 */
export interface BreakerWarnedEvent {
  id?: string;
  type: 'breaker.warned';
  account_id: string;
  reason: Exclude<TripReason, 'manual'>;
  /** The counts and rates when the level was crossed. */
  numbers: BreakerNumbers;
  /** The account's mode then. */
  mode: BreakerMode;
  at: string;
}

/**
 * The trip level crossed while the account's mode is `warn` or `watch`: the numbers a trip would
 * have had, and no trip (no hold, no deactivation). At most once per window per account;
 * notified in mode `warn`.
 */
export interface BreakerWouldTripEvent {
  id?: string;
  type: 'breaker.would_trip';
  account_id: string;
  reason: Exclude<TripReason, 'manual'>;
  numbers: BreakerNumbers;
  mode: Exclude<BreakerMode, 'act'>;
  at: string;
}

/**
 * Someone changed a breaker mode at run time (`breaker mode`, PUT /v1/breaker/mode): the
 * default's (`account_id` null) or an account's; `mode` null when the run-time setting was
 * cleared (the settings' mode applies again).
 */
export interface BreakerModeChangedEvent {
  id?: string;
  type: 'breaker.mode_changed';
  /** The account; null for the default. */
  account_id: string | null;
  mode: BreakerMode | null;
  /** The run-time setting before (null: there was none). */
  previous: BreakerMode | null;
  actor: string | null;
  at: string;
}

export type BreakerEvent =
  | BreakerTrippedEvent
  | BreakerResetEvent
  | BreakerHalfOpenEvent
  | BreakerClosedEvent
  | BreakerWarnedEvent
  | BreakerWouldTripEvent
  | BreakerModeChangedEvent;
