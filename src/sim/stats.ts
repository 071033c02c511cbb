/** Counters behind `Simulator.stats()` and `GET /__sim/stats`. Increments are O(1). */
import type { ProviderAction, SimStats } from './types.js';

export const NO_KEY = '(none)';

type FaultCounters = SimStats['faults'];

const zeroFaults = (): FaultCounters => ({
  error500: 0,
  error502: 0,
  error503: 0,
  drop: 0,
  hang: 0,
  lost: 0,
  conflict: 0,
  mutate: 0,
});

export class StatsCollector {
  requests = 0;
  executions = 0;
  noop = 0;
  replays = 0;
  inFlightConflicts = 0;
  rateLimited = 0;
  /** Injected faults, by kind (mutable counters). */
  faults: FaultCounters = zeroFaults();
  private byKey = new Map<string, number>();
  private byAccount = new Map<string, { activate: number; deactivate: number }>();

  /**
   * One executed action; `key` is the Idempotency-Key or undefined; `changed` is false for a
   * no-op (already in the asked state), which still counts as an execution.
   */
  execution(
    key: string | undefined,
    accountId: string,
    action: ProviderAction,
    changed: boolean,
  ): void {
    this.executions++;
    if (!changed) this.noop++;
    const k = key ?? NO_KEY;
    this.byKey.set(k, (this.byKey.get(k) ?? 0) + 1);
    let acc = this.byAccount.get(accountId);
    if (acc === undefined) {
      acc = { activate: 0, deactivate: 0 };
      this.byAccount.set(accountId, acc);
    }
    acc[action]++;
  }

  snapshot(): SimStats {
    return {
      requests: this.requests,
      executions: {
        total: this.executions,
        noop: this.noop,
        byKey: Object.fromEntries(this.byKey),
        byAccount: Object.fromEntries(Array.from(this.byAccount, ([id, c]) => [id, { ...c }])),
      },
      replays: this.replays,
      inFlightConflicts: this.inFlightConflicts,
      rateLimited: this.rateLimited,
      faults: { ...this.faults },
    };
  }

  reset(): void {
    this.requests = 0;
    this.executions = 0;
    this.noop = 0;
    this.replays = 0;
    this.inFlightConflicts = 0;
    this.rateLimited = 0;
    this.faults = zeroFaults();
    this.byKey = new Map();
    this.byAccount = new Map();
  }
}
