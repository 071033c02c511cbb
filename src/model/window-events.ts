/**
 * The maintenance windows' events on the stream (`window.*`). The glossary of
 * docs/architecture.md says what each word means.
 */

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
  /** `window:<id>`: the window's own doing (null in events of older versions). */
  actor: string | null;
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
  /** `window:<id>`: the window's own doing (null in events of older versions). */
  actor: string | null;
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
  /** `window:<id>`: the window's own doing (null in events of older versions). */
  actor: string | null;
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
  /** `window:<id>`: the window's own doing (null in events of older versions). */
  actor: string | null;
  at: string;
}

/**
 * A window's records were deleted (`window delete`): nothing of it is left to run or show. Its
 * holds had gone at its end (a window still holding accounts cannot be deleted); accounts are
 * not touched.
 */
export interface WindowDeletedEvent {
  id?: string;
  type: 'window.deleted';
  window_id: string;
  /** What it was: `scheduled` (nothing had started, or a recurring one between occurrences), `over` or `cancelled`. */
  was: 'scheduled' | 'over' | 'cancelled';
  /** Who deleted it (the CLI user or `--actor`, the admin token's name). */
  actor: string | null;
  at: string;
}

export type WindowEvent =
  | WindowStartedEvent
  | WindowEndedEvent
  | WindowSkippedEvent
  | WindowFailedEvent
  | WindowDeletedEvent;
