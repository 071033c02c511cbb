/**
 * Held is not the same as off (issue 20 §3): what a held account really is, from its holds and
 * its recorded status. A hold says the account must be off; only a recorded `is_active: false`
 * says it is. An account whose hold stands while its latest deactivation failed (a locked
 * account answers 409 `conflict`), or whose recorded status is still active, is *held, still
 * on*: shown with the failure and the commands that retry it or let it go. Pure: no Redis.
 */
import type { Hold } from '../model.js';
import type { AccountStatus } from '../store/status-record.js';

/** The CLI's name, as the commands below are printed. */
const CLI = 'sendmux-deactivator';

/** What a held account is, besides its holds. */
export interface HeldState {
  /** Held, yet not recorded off: its deactivation failed, or it is recorded active. */
  still_on: boolean;
  /** The latest deactivation's failure while held (null when it did not fail). */
  last_failure: { error_code: string; error_message: string; at: string } | null;
  /** What to run about a held account still on after a failure (null otherwise). */
  next_step: string | null;
}

export const NOT_HELD: HeldState = { still_on: false, last_failure: null, next_step: null };

/** A reason safe to print inside double quotes on a shell line, else a plain one. */
function retryReason(holds: readonly Hold[]): string {
  const manual = holds.find((h) => h.id === 'manual')?.reason ?? '';
  return /^[\w .,:/-]{1,80}$/.test(manual) ? manual : 'retry';
}

/** The command that lets go of one hold, by its source. */
function releaseCommand(accountId: string, hold: Hold): string {
  if (hold.id === 'manual') return `${CLI} activate ${accountId}`;
  if (hold.id === 'breaker') return `${CLI} breaker reset ${accountId}`;
  if (hold.id.startsWith('bulk:')) return `${CLI} batch undo ${hold.id.slice('bulk:'.length)}`;
  if (hold.id.startsWith('window:')) {
    const rest = hold.id.slice('window:'.length);
    const cut = rest.lastIndexOf(':');
    return `${CLI} window cancel ${cut > 0 ? rest.slice(0, cut) : rest}`;
  }
  return `${CLI} holds ${accountId}`;
}

/** The commands for a held account still on after a failed deactivation. */
export function nextStep(accountId: string, holds: readonly Hold[]): string {
  const retry = `retry: ${CLI} deactivate ${accountId} --reason "${retryReason(holds)}"`;
  const release = [...new Set(holds.map((h) => releaseCommand(accountId, h)))];
  return `${retry}; or let it go (it stays on): ${release.join(' and ')}`;
}

/** What a held account is: still on or not, its latest failure, what to do. */
export function heldState(
  accountId: string,
  holds: readonly Hold[],
  status: AccountStatus | undefined,
): HeldState {
  if (holds.length === 0) return NOT_HELD;
  const off = status?.is_active === false;
  const failed = status?.last_action === 'deactivate' && status.last_outcome === 'failed';
  const error = failed ? status.last_error : null;
  const stillOn = !off && (failed || status?.is_active === true);
  return {
    still_on: stillOn,
    last_failure: error
      ? { error_code: error.code, error_message: error.message, at: error.at }
      : null,
    next_step: stillOn && failed ? nextStep(accountId, holds) : null,
  };
}
