/**
 * States: an account's base, an intent's state, a hold, what the API said about an account and
 * whether it is where an action puts it. The glossary of docs/architecture.md says what each
 * word means.
 */
import type { Action, Source } from './intent.js';

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
  /**
   * Who took it (model/actor.ts): the CLI user or admin token's name, `breaker`,
   * `window:<id>`; null for holds stored before actors existed.
   */
  actor: string | null;
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
