/**
 * One history through every rule set: a fresh {@link Evaluator} per set, the signals in the
 * order the breaker would see them. The history is read once (signal-log.ts).
 */
import { Evaluator, type AccountRun, type EvaluatorSettings, type KindIndex } from './evaluate.js';
import type { RuleSet } from './rule-sets.js';
import type { SignalLog } from './signal-log.js';

export interface RuleSetOutcome {
  set: RuleSet;
  /** Every account of the history, in first-seen order. */
  accounts: AccountRun[];
  trips: number;
  accountsTripped: number;
  warnings: number;
  accountsWarned: number;
  counted: number;
  stale: number;
  duplicates: number;
}

export function runBacktest(
  log: SignalLog,
  sets: readonly RuleSet[],
  settings: EvaluatorSettings,
): RuleSetOutcome[] {
  const order = log.order();
  return sets.map((set) => replay(log, order, set, settings));
}

function replay(
  log: SignalLog,
  order: Uint32Array,
  set: RuleSet,
  settings: EvaluatorSettings,
): RuleSetOutcome {
  const evaluator = new Evaluator(set.rules, settings);
  const runs = log.accounts.map((id) => evaluator.account(id));
  const { account, kind, occurred, seen, ids } = log;
  for (let j = 0; j < order.length; j++) {
    const i = order[j] ?? 0;
    const run = runs[account[i] ?? 0];
    if (run === undefined) continue;
    evaluator.step(run, (kind[i] ?? 0) as KindIndex, ids[i] ?? '', occurred[i] ?? 0, seen[i] ?? 0);
  }
  const out: RuleSetOutcome = {
    set,
    accounts: runs,
    trips: 0,
    accountsTripped: 0,
    warnings: 0,
    accountsWarned: 0,
    counted: 0,
    stale: 0,
    duplicates: 0,
  };
  for (const r of runs) {
    out.trips += r.trips.length;
    out.warnings += r.warnings.length;
    if (r.trips.length > 0) out.accountsTripped++;
    if (r.warnings.length > 0) out.accountsWarned++;
    out.counted += r.counted;
    out.stale += r.stale;
    out.duplicates += r.duplicates;
  }
  return out;
}
