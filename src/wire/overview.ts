/** `GET /v1/overview`: what the status page shows, in one answer. */
import { z } from 'zod';
import { BREAKER_MODES } from '../model.js';
import type { Overview, TargetsSummary } from '../ops/overview.js';
import { accountSchema, accountView } from './accounts.js';
import {
  breakerRecordShape,
  breakerRecordView,
  modeSourceSchema,
  ruleLevelsSchema,
  webhookCountsSchema,
  webhookCountsView,
} from './breakers.js';
import { timeSchema } from './common.js';
import {
  actionEventSchema,
  actionEventView,
  breakerNumbersSchema,
  windowFailedEventSchema,
  windowFailedEventView,
} from './events.js';

const targetsSummarySchema = z.strictObject({
  kind: z.enum(['accounts', 'filter']),
  /** The filter's text, or the number of accounts. */
  text: z.string(),
  /** Up to 10 of the accounts (none for a filter). */
  account_ids: z.array(z.string()),
  count: z.number().nullable(),
});

const counts = <K extends string, V extends z.ZodType>(keys: readonly K[], value: V) =>
  z.strictObject(Object.fromEntries(keys.map((k) => [k, value])) as Record<K, V>);

export const overviewSchema = z.strictObject({
  generated_at: timeSchema,
  limits: counts(
    ['accounts', 'breakers', 'windows', 'failures', 'events_scanned', 'webhook_events'],
    z.number(),
  ),
  /** `held_off` / `held_still_on`: of the held accounts listed, recorded off / not (still on). */
  totals: counts(
    ['accounts', 'held', 'held_off', 'held_still_on', 'breakers', 'windows'],
    z.number(),
  ),
  truncated: counts(['accounts', 'breakers', 'windows'], z.boolean()),
  accounts: z.array(accountSchema),
  breakers: z.array(
    z.strictObject({
      ...breakerRecordShape,
      mode: z.strictObject({ mode: z.enum(BREAKER_MODES), from: modeSourceSchema }),
      /** A warning said within the window (not one said while watching). */
      warning: z.enum(['warned', 'would_trip']).nullable(),
      window: breakerNumbersSchema,
      rules: ruleLevelsSchema,
    }),
  ),
  windows: z.strictObject({
    available: z.boolean(),
    running: z.array(
      z.strictObject({
        window_id: z.string(),
        occurrence: z.string(),
        state: z.string(),
        starts_at: timeSchema,
        ends_at: timeSchema,
        started_at: timeSchema.nullable(),
        reason: z.string(),
        targets: targetsSummarySchema,
      }),
    ),
    upcoming: z.array(
      z.strictObject({
        window_id: z.string(),
        kind: z.enum(['once', 'recurring']),
        next_starts: z.array(timeSchema),
        next_ends_at: timeSchema.nullable(),
        schedule: z.string().nullable(),
        reason: z.string(),
        targets: targetsSummarySchema,
      }),
    ),
  }),
  failures: z.array(actionEventSchema),
  failures_scanned: z.number(),
  window_failures: z.array(windowFailedEventSchema),
  webhooks: webhookCountsSchema,
  can_reset_breakers: z.boolean(),
});

export type OverviewView = z.infer<typeof overviewSchema>;

function targetsView(t: TargetsSummary): z.infer<typeof targetsSummarySchema> {
  return { kind: t.kind, text: t.text, account_ids: t.accounts, count: t.count };
}

export function overviewView(o: Overview): OverviewView {
  return {
    generated_at: o.generated_at,
    limits: { ...o.limits },
    totals: { ...o.totals },
    truncated: { ...o.truncated },
    accounts: o.accounts.map(accountView),
    breakers: o.breakers.map((b) => ({
      ...breakerRecordView(b),
      mode: { ...b.mode },
      warning: b.warning,
      window: b.window,
      rules: { ...b.rules },
    })),
    windows: {
      available: o.windows.available,
      running: o.windows.running.map((w) => ({ ...w, targets: targetsView(w.targets) })),
      upcoming: o.windows.upcoming.map((w) => ({ ...w, targets: targetsView(w.targets) })),
    },
    failures: o.failures.map(actionEventView),
    failures_scanned: o.failures_scanned,
    window_failures: o.window_failures.map(windowFailedEventView),
    webhooks: webhookCountsView(o.webhooks),
    can_reset_breakers: o.can_reset_breakers,
  };
}
