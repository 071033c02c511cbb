/**
 * The backtest's evaluator (src/producers/breaker/backtest/evaluate.ts) is the twin of the live
 * breaker's Lua step: one generated sequence of signals (several accounts and rule sets, late,
 * stale and repeated signals, cooldowns) goes to the live breaker (real Redis, its clock following
 * the signals, its timed steps taken when due) and to the evaluator; each signal must get the
 * same answer, and the trips and warnings the same times, reasons and numbers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Evaluator,
  KIND,
  type Crossing,
  type EvaluatorSettings,
} from '../../src/producers/breaker/backtest/evaluate.js';
import { runBacktest } from '../../src/producers/breaker/backtest/run.js';
import { SignalLog } from '../../src/producers/breaker/backtest/signal-log.js';
import { createBreaker } from '../../src/producers/breaker/breaker.js';
import type { BreakerRules, RulesFor } from '../../src/producers/breaker/rules.js';
import { createProducer } from '../../src/queue/enqueue.js';
import { createActionQueue } from '../../src/queue/queue.js';
import { keysFor } from '../../src/store/keys.js';
import { dropPrefix, testConfig, testRedis, uniquePrefix } from '../support/context.js';

const ACCOUNTS = ['dprov_twin_a', 'dprov_twin_b', 'dprov_twin_c'] as const;
const OUTCOMES = ['delivered', 'hard', 'soft', 'complained', 'rejected'] as const;
type Outcome = (typeof OUTCOMES)[number];

const KIND_OF: Record<Outcome, (typeof KIND)[keyof typeof KIND]> = {
  delivered: KIND.delivered,
  hard: KIND.hard_bounced,
  soft: KIND.soft_bounced,
  complained: KIND.complained,
  rejected: KIND.rejected,
};

interface Step {
  account: number;
  outcome: Outcome;
  /** ms after the previous signal's arrival. */
  gap: number;
  /** How long before its arrival it happened (ms). */
  late: number;
  /** Reuse the id of an earlier signal (a retried delivery). */
  repeat: boolean;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  account: fc.integer({ min: 0, max: ACCOUNTS.length - 1 }),
  // Mostly delivered: rates wander around the warning and trip levels rather than far above.
  outcome: fc.constantFrom(...OUTCOMES, 'delivered', 'delivered', 'delivered', 'delivered', 'hard'),
  gap: fc.oneof(
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 5_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 90_000 }) },
    // Whole minutes: a window or a cooldown later to the millisecond.
    { weight: 1, arbitrary: fc.constantFrom(60_000, 120_000, 150_000, 240_000) },
  ),
  late: fc.oneof(
    { weight: 4, arbitrary: fc.constant(0) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 120_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 170_000, max: 400_000 }) },
  ),
  repeat: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
});

const ruleArb: fc.Arbitrary<BreakerRules> = fc
  .record({
    windowMin: fc.integer({ min: 1, max: 5 }),
    bounceRate: fc.constantFrom(0.25, 1 / 3, 0.5, 0.6),
    bounceWarnFactor: fc.constantFrom(1, 0.5, 0.3, 0.2),
    bounceMinVolume: fc.integer({ min: 1, max: 8 }),
    complaintRate: fc.constantFrom(0.2, 0.5),
    complaintWarnFactor: fc.constantFrom(1, 0.5, 0.3),
    complaintMinVolume: fc.integer({ min: 1, max: 8 }),
  })
  .map((r) => ({
    mode: 'act',
    ownMode: false,
    windowS: r.windowMin * 60,
    bounceRate: r.bounceRate,
    bounceWarnRate: r.bounceRate * r.bounceWarnFactor,
    bounceMinVolume: r.bounceMinVolume,
    complaintRate: r.complaintRate,
    complaintWarnRate: r.complaintRate * r.complaintWarnFactor,
    complaintMinVolume: r.complaintMinVolume,
  }));

const settingsArb: fc.Arbitrary<EvaluatorSettings> = fc.record({
  cooldownS: fc.constantFrom(0, 60, 150),
  cooldownMaxS: fc.constantFrom(200, 600),
  halfOpenWatchS: fc.constantFrom(60, 240),
  dedupeTtlS: fc.constant(86_400),
});

interface Trip extends Crossing {
  account: string;
}

/** The live breaker's answers and trips for the sequence, on a fresh prefix. */
async function live(
  steps: readonly Step[],
  rules: RulesFor,
  settings: EvaluatorSettings,
  start: number,
): Promise<{ answers: string[]; trips: Trip[]; warnings: Trip[] }> {
  const prefix = uniquePrefix();
  const keys = keysFor(prefix);
  const redis = testRedis(prefix, null);
  const config = testConfig({ prefix });
  const queue = createActionQueue(config, redis);
  let now = start;
  const breaker = createBreaker({
    redis,
    keys,
    producer: createProducer({ redis, queue, config }),
    rules,
    dedupeTtlS: settings.dedupeTtlS,
    eventsMaxLen: 10_000,
    cooldownS: settings.cooldownS,
    cooldownMaxS: settings.cooldownMaxS,
    halfOpenWatchS: settings.halfOpenWatchS,
    now: () => new Date(now),
  });
  const answers: string[] = [];
  const trips: Trip[] = [];
  const warnings: Trip[] = [];
  try {
    let at = start;
    const ids: string[] = [];
    for (const [i, s] of steps.entries()) {
      at += s.gap;
      // The timed steps due by now, each at its own time (a server ticks every second).
      for (let guard = 0; guard < 100; guard++) {
        const [, score] = await redis.zrange(keys.breakerDue, 0, 0, 'WITHSCORES');
        if (score === undefined || Number(score) > at) break;
        now = Math.max(now, Number(score));
        await breaker.tick();
      }
      now = at;
      const id = s.repeat && ids.length > 0 ? (ids[i % ids.length] ?? `e${i}`) : `evt_twin_${i}`;
      ids.push(id);
      const account = ACCOUNTS[s.account] ?? ACCOUNTS[0];
      const r = await breaker.signal({
        id,
        account_id: account,
        outcome: s.outcome === 'hard' || s.outcome === 'soft' ? 'bounced' : s.outcome,
        ...(s.outcome === 'hard' ? { bounce_type: 'Permanent' } : {}),
        ...(s.outcome === 'soft' ? { bounce_type: 'Transient' } : {}),
        occurred_at: new Date(at - s.late).toISOString(),
      });
      answers.push(r.result);
      if (r.result === 'tripped') {
        trips.push({ account, at, reason: r.reason as Trip['reason'], numbers: r.numbers });
      }
      if (r.result === 'warned')
        warnings.push({ account, at, reason: r.reason, numbers: r.numbers });
    }
  } finally {
    await queue.close();
    await redis.quit();
    await dropPrefix(prefix);
  }
  return { answers, trips, warnings };
}

const byTime = (a: Trip, b: Trip) => a.at - b.at || a.account.localeCompare(b.account);

/** The evaluator's answers and trips for the same sequence. */
function replay(
  steps: readonly Step[],
  rules: RulesFor,
  settings: EvaluatorSettings,
  start: number,
): { answers: string[]; trips: Trip[]; warnings: Trip[] } {
  const evaluator = new Evaluator(rules, settings);
  // The same sequence through the command's path too: the history's columns, then a replay.
  const log = new SignalLog();
  const answers: string[] = [];
  let at = start;
  const ids: string[] = [];
  for (const [i, s] of steps.entries()) {
    at += s.gap;
    const id = s.repeat && ids.length > 0 ? (ids[i % ids.length] ?? `e${i}`) : `evt_twin_${i}`;
    ids.push(id);
    const account = ACCOUNTS[s.account] ?? ACCOUNTS[0];
    answers.push(
      evaluator.step(evaluator.account(account), KIND_OF[s.outcome], id, at - s.late, at),
    );
    log.push(account, KIND_OF[s.outcome], id, at - s.late, at);
  }
  const trips: Trip[] = [];
  const warnings: Trip[] = [];
  for (const run of evaluator.accounts()) {
    trips.push(...run.trips.map((t) => ({ account: run.accountId, ...t })));
    warnings.push(...run.warnings.map((w) => ({ account: run.accountId, ...w })));
  }
  const set = { name: 'twin', source: 'test', rules, global: rules(ACCOUNTS[0]) };
  const [outcome] = runBacktest(log, [set], settings);
  const viaLog = (outcome?.accounts ?? []).flatMap((r) =>
    r.trips.map((t) => ({ account: r.accountId, ...t })),
  );
  expect(viaLog.sort(byTime)).toEqual([...trips].sort(byTime));
  return { answers, trips, warnings };
}

describe('breaker backtest: the evaluator is the live breaker twin', () => {
  it('gives the same answers, trips and warnings as the live breaker on one generated sequence (property)', async () => {
    const seed = Number(process.env.BACKTEST_TWIN_SEED ?? Date.now() % 2_147_483_647);
    // Printed so that a failure can be replayed: BACKTEST_TWIN_SEED=<seed>.
    console.info(`breaker backtest twin: seed ${seed}`);
    let tripsSeen = 0;
    let warningsSeen = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 20, maxLength: 150 }),
        fc.array(ruleArb, { minLength: ACCOUNTS.length, maxLength: ACCOUNTS.length }),
        settingsArb,
        async (steps, ruleList, settings) => {
          const byAccount = new Map(ACCOUNTS.map((id, i) => [id as string, ruleList[i]]));
          const rules: RulesFor = (id) => {
            const r = byAccount.get(id);
            if (!r) throw new Error(`no rules for ${id}`);
            return r;
          };
          const start = Date.UTC(2026, 11, 1, 12, 0, 17, 250);
          const expected = replay(steps, rules, settings, start);
          const actual = await live(steps, rules, settings, start);
          tripsSeen += actual.trips.length;
          warningsSeen += actual.warnings.length;
          expect(expected.answers).toEqual(actual.answers);
          expect([...expected.trips].sort(byTime)).toEqual([...actual.trips].sort(byTime));
          expect([...expected.warnings].sort(byTime)).toEqual([...actual.warnings].sort(byTime));
        },
      ),
      { seed, numRuns: 30, endOnFailure: true },
    );
    console.info(`breaker backtest twin: ${tripsSeen} trips, ${warningsSeen} warnings compared`);
    // The generator must reach the interesting cases, not only quiet sequences.
    expect(tripsSeen).toBeGreaterThan(0);
    expect(warningsSeen).toBeGreaterThan(0);
  });
});
