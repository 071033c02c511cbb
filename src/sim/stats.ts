/** Counters behind `Simulator.stats()` and `GET /__sim/stats`. Increments are O(1). */
import type { ProviderAction, SimStats } from './types.js';

export const NO_KEY = '(none)';

export class StatsCollector {
  requests = 0;
  executions = 0;
  replays = 0;
  inFlightConflicts = 0;
  rateLimited = 0;
  error500 = 0;
  error503 = 0;
  drop = 0;
  hang = 0;
  private byKey = new Map<string, number>();
  private byAccount = new Map<string, { activate: number; deactivate: number }>();

  /** One executed action; `key` is the Idempotency-Key or undefined. */
  execution(key: string | undefined, accountId: string, action: ProviderAction): void {
    this.executions++;
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
        byKey: Object.fromEntries(this.byKey),
        byAccount: Object.fromEntries(Array.from(this.byAccount, ([id, c]) => [id, { ...c }])),
      },
      replays: this.replays,
      inFlightConflicts: this.inFlightConflicts,
      rateLimited: this.rateLimited,
      faults: {
        error500: this.error500,
        error503: this.error503,
        drop: this.drop,
        hang: this.hang,
      },
    };
  }

  reset(): void {
    this.requests = 0;
    this.executions = 0;
    this.replays = 0;
    this.inFlightConflicts = 0;
    this.rateLimited = 0;
    this.error500 = 0;
    this.error503 = 0;
    this.drop = 0;
    this.hang = 0;
    this.byKey = new Map();
    this.byAccount = new Map();
  }
}
