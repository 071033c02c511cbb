/**
 * `breaker backtest --json`: what each rule set would have done on one history (per account,
 * its warnings and trips with the window's numbers, as `breaker.warned`/`breaker.tripped` carry
 * them), what the history held and skipped, and, from Redis, what the live breaker did.
 */
import { z } from 'zod';
import { BREAKER_MODES } from '../model.js';
import type { Crossing } from '../producers/breaker/backtest/evaluate.js';
import type { RuleSetOutcome } from '../producers/breaker/backtest/run.js';
import type { SignalLog } from '../producers/breaker/backtest/signal-log.js';
import { ruleLevels, type BreakerRules } from '../producers/breaker/rules.js';
import { ruleLevelsSchema } from './breakers.js';
import { accountIdSchema, timeSchema } from './common.js';
import { breakerNumbersSchema } from './events.js';

const crossingSchema = z.strictObject({
  at: timeSchema,
  reason: z.enum(['bounce_rate', 'complaint_rate']),
  numbers: breakerNumbersSchema,
});

const rulesSchema = ruleLevelsSchema.extend({ mode: z.enum(BREAKER_MODES) });

const actualEventSchema = z.strictObject({
  type: z.enum(['breaker.tripped', 'breaker.warned', 'breaker.would_trip']),
  at: timeSchema,
  reason: z.string().nullable(),
});

export const backtestSchema = z.strictObject({
  source: z.strictObject({
    kind: z.enum(['file', 'redis', 'logs']),
    /** The file's path, `stdin`, the Redis prefix, or `GET /emails/logs`. */
    name: z.string(),
    read: z.number().describe('lines, inbox entries or delivery logs read'),
    signals: z.number(),
    skipped: z.number(),
    skipped_reasons: z.array(
      z.strictObject({ reason: z.string(), count: z.number(), where: z.array(z.string()) }),
    ),
    from: timeSchema.nullable(),
    to: timeSchema.nullable(),
  }),
  /** What a replay cannot know, and how it reads the rules. */
  assumptions: z.array(z.string()),
  rule_sets: z.array(
    z.strictObject({
      name: z.string(),
      source: z.string(),
      global: rulesSchema,
      trips: z.number(),
      accounts_tripped: z.number(),
      warnings: z.number(),
      accounts_warned: z.number(),
      counted: z.number(),
      stale: z.number(),
      duplicates: z.number(),
      /** Accounts with a warning or a trip, by id (the quiet ones only count in `counted`). */
      accounts: z.array(
        z.strictObject({
          account_id: accountIdSchema,
          mode: z.enum(BREAKER_MODES),
          counted: z.number(),
          first_warned_at: timeSchema.nullable(),
          warnings: z.array(crossingSchema),
          trips: z.array(crossingSchema),
        }),
      ),
    }),
  ),
  /** From Redis: the live breaker's events for the same accounts (null for other sources). */
  actual: z
    .strictObject({
      events_read: z.number(),
      accounts: z.array(
        z.strictObject({ account_id: accountIdSchema, events: z.array(actualEventSchema) }),
      ),
    })
    .nullable(),
});
export type BacktestView = z.infer<typeof backtestSchema>;
export type ActualView = NonNullable<BacktestView['actual']>;

const iso = (ms: number) => new Date(ms).toISOString();

function crossingView(c: Crossing) {
  return { at: iso(c.at), reason: c.reason, numbers: c.numbers };
}

export function rulesView(r: BreakerRules) {
  return { mode: r.mode, ...ruleLevels(r) };
}

export function backtestView(
  source: { kind: 'file' | 'redis' | 'logs'; name: string; read: number; log: SignalLog },
  outcomes: readonly RuleSetOutcome[],
  assumptions: readonly string[],
  actual: ActualView | null,
): BacktestView {
  const span = source.log.span();
  return {
    source: {
      kind: source.kind,
      name: source.name,
      read: source.read,
      signals: source.log.size,
      skipped: source.log.skipped,
      skipped_reasons: source.log.skipReasons(),
      from: span ? iso(span.from) : null,
      to: span ? iso(span.to) : null,
    },
    assumptions: [...assumptions],
    rule_sets: outcomes.map((o) => ({
      name: o.set.name,
      source: o.set.source,
      global: rulesView(o.set.global),
      trips: o.trips,
      accounts_tripped: o.accountsTripped,
      warnings: o.warnings,
      accounts_warned: o.accountsWarned,
      counted: o.counted,
      stale: o.stale,
      duplicates: o.duplicates,
      accounts: o.accounts
        .filter((a) => a.trips.length > 0 || a.warnings.length > 0)
        .sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0))
        .map((a) => ({
          account_id: a.accountId,
          mode: a.rules.mode,
          counted: a.counted,
          first_warned_at: a.warnings[0] ? iso(a.warnings[0].at) : null,
          warnings: a.warnings.map(crossingView),
          trips: a.trips.map(crossingView),
        })),
    })),
    actual,
  };
}
