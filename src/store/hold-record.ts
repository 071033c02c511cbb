/**
 * What a hold step is given: a hold's id for an intent's source, a hold as stored, and what a
 * source read of the account (recorded before the hold is taken). holds.ts has the steps.
 */
import {
  normalizeSource,
  type AccountState,
  type Hold,
  type Intent,
  type Source,
} from '../model.js';
import { encodeAccountPart } from './status-record.js';

/**
 * The hold a source takes before it asks to switch an account off (the producers name them
 * this way: `manual` (producers/manual.ts), `bulk:<batch>` (bulk/run.ts), `breaker`
 * (breaker-trip.ts), `window:<window>:<occurrence>` (windows/windows.ts); a unit test keeps
 * them equal). Used to let go of it when the API says the account does not exist.
 */
export function intentHoldId(intent: Pick<Intent, 'source' | 'sourceRef'>): string {
  switch (normalizeSource(intent.source)) {
    case 'manual':
      return 'manual';
    case 'bulk':
      return intent.sourceRef ? `bulk:${intent.sourceRef}` : '';
    case 'breaker':
      return 'breaker';
    case 'window':
      return intent.sourceRef ? `window:${intent.sourceRef}` : '';
  }
}

export interface HoldInput {
  id: string;
  source: Source;
  ref?: string | null;
  reason?: string;
  /** Who took it (model/actor.ts); null when not known. */
  actor?: string | null;
}

/** A hold as stored (its id is the field name). */
export function encodeHold(hold: HoldInput, at: Date): string {
  const stored: Omit<Hold, 'id'> = {
    source: hold.source,
    ref: hold.ref ?? null,
    reason: hold.reason ?? '',
    actor: hold.actor ?? null,
    at: at.toISOString(),
  };
  return JSON.stringify(stored);
}

/**
 * What one of the source's reads of the API said about an account, to record before the hold
 * is taken (forward-only by `updated_at`, see known-state.ts): the status hash's account part
 * (status-record.ts `encodeAccountPart`) and the answer's `updated_at` in ms ('' unknown).
 */
export interface Seen {
  part: string;
  updatedMs: string;
}

/** A read of the API (an item of the listing or a GET): what to record of it. */
export function seenOf(account: AccountState): Seen {
  const ms = account.updated_at === null ? NaN : Date.parse(account.updated_at);
  return {
    part: encodeAccountPart(account, null),
    updatedMs: Number.isFinite(ms) ? String(ms) : '',
  };
}

/**
 * What a source believes an account is without a read to show for it (no `updated_at`): it is
 * recorded only where nothing is recorded yet.
 */
export function seenState(status: 'active' | 'inactive'): Seen {
  return seenOf({
    status,
    is_active: status === 'active',
    status_reason: null,
    updated_at: null,
  });
}
