/**
 * The simulator's own record of what changed its accounts, in order: every executed action
 * (no-ops included, replays and unexecuted faults not) and every change made through the admin
 * route `POST /__sim/accounts/:id/state` (a change "outside" the project, as someone using
 * Sendmux's dashboard would make). Read with `Simulator.log()` or `GET /__sim/log`; a model test
 * compares it with what the project believes. Capped: the oldest entries go first.
 */
import type { ProviderAction, SimLogEntry } from './types.js';

/** Entries kept; older ones are dropped (a long demo or bench never grows without bound). */
export const SIM_LOG_MAX = 100_000;

export class ExecutionLog {
  private entries: SimLogEntry[] = [];
  /** Entries dropped by the cap since the last clear. */
  dropped = 0;

  /** One executed action: `key` is the Idempotency-Key (null without one). */
  execution(
    at: number,
    key: string | undefined,
    account: string,
    action: ProviderAction,
    changed: boolean,
  ): void {
    this.push({ at, key: key ?? null, account, action, changed, via: 'api' });
  }

  /** A change made outside the API's action routes (the admin state route). */
  outside(at: number, account: string, action: ProviderAction, changed: boolean): void {
    this.push({ at, key: null, account, action, changed, via: 'outside' });
  }

  private push(entry: SimLogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > SIM_LOG_MAX) {
      const over = this.entries.length - SIM_LOG_MAX;
      this.entries.splice(0, over);
      this.dropped += over;
    }
  }

  /** A copy of the entries, oldest first. */
  snapshot(): SimLogEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries = [];
    this.dropped = 0;
  }
}
