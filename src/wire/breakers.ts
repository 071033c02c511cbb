/**
 * The breaker as a user sees it: `breaker status|trip|reset --json`, `signal --json` and their
 * routes (`GET /v1/breaker[/:account]`, `POST .../trip|reset`, `POST /v1/signals`), and the
 * webhook counters (`GET /v1/webhooks/stats`). Trip and reset answers use the words of their
 * events (`trip_id`, `idempotency_key`, `still_held_by`, `base`).
 */
import { z } from 'zod';
import { BREAKER_MODES, TRIP_REASONS } from '../model.js';
import type { WebhookStatsView } from '../ops/breaker-service.js';
import type { BreakerModes, BreakerStatus, SignalResult } from '../producers/breaker/breaker.js';
import type { ModeChange } from '../store/breaker-mode.js';
import type { ResetResult } from '../store/breaker-reset.js';
import { BREAKER_STATES, type BreakerRecord } from '../store/breaker-state.js';
import type { TripResult } from '../store/breaker-trip.js';
import { WEBHOOK_RESULTS } from '../store/webhook-stats.js';
import { accountHoldsSchema, accountHoldsView } from './accounts.js';
import { accountIdSchema, baseStateSchema, timeSchema } from './common.js';
import { breakerNumbersSchema } from './events.js';

/** What the last `breaker.warned` / `breaker.would_trip` said. */
const breakerWarningSchema = z.strictObject({
  at: timeSchema,
  reason: z.enum(['bounce_rate', 'complaint_rate']),
  numbers: breakerNumbersSchema.nullable(),
  mode: z.enum(BREAKER_MODES),
});

/** An account's rules as users read them (producers/breaker/rules.ts, ruleLevels). */
export const ruleLevelsSchema = z.strictObject({
  window_s: z.number(),
  bounce_rate: z.number(),
  bounce_warn_rate: z.number(),
  bounce_min_volume: z.number(),
  complaint_rate: z.number(),
  complaint_warn_rate: z.number(),
  complaint_min_volume: z.number(),
});

/** Where an account's mode comes from, most specific first. */
export const modeSourceSchema = z.enum([
  'runtime_account',
  'settings_account',
  'runtime_default',
  'settings',
]);

export const breakerRecordShape = {
  account_id: accountIdSchema,
  state: z.enum(BREAKER_STATES),
  trips: z.number(),
  last_trip: z
    .strictObject({
      trip_id: z.string(),
      at: timeSchema,
      reason: z.enum(TRIP_REASONS),
      numbers: breakerNumbersSchema.nullable(),
      idempotency_key: z.string(),
      enqueued: z.boolean(),
    })
    .nullable(),
  reset_at: timeSchema.nullable(),
  cooldown_s: z.number().nullable(),
  open_until: timeSchema.nullable(),
  half_open_at: timeSchema.nullable(),
  last_warning: breakerWarningSchema.nullable(),
  last_would_trip: breakerWarningSchema.nullable(),
};

export function breakerRecordView(r: BreakerRecord) {
  return {
    account_id: r.account_id,
    state: r.state,
    trips: r.trips,
    last_trip: r.last_trip && {
      trip_id: r.last_trip.trip_id,
      at: r.last_trip.at,
      reason: r.last_trip.reason,
      numbers: r.last_trip.numbers,
      idempotency_key: r.last_trip.idempotency_key,
      enqueued: r.last_trip.enqueued,
    },
    reset_at: r.reset_at,
    cooldown_s: r.cooldown_s,
    open_until: r.open_until,
    half_open_at: r.half_open_at,
    last_warning: r.last_warning,
    last_would_trip: r.last_would_trip,
  };
}

/** One account's breaker: its record, the counts over the window ending now, its holds. */
export const breakerSchema = z.strictObject({
  ...breakerRecordShape,
  /** What a crossing of the trip level does now, and where that comes from. */
  mode: z.strictObject({ mode: z.enum(BREAKER_MODES), from: modeSourceSchema }),
  /** A warning or would-trip said within the window ending now (null: none). */
  warning: z.enum(['warned', 'would_trip']).nullable(),
  window: breakerNumbersSchema,
  holds: accountHoldsSchema,
});
export type BreakerView = z.infer<typeof breakerSchema>;

/** `GET /v1/breaker`. */
export const breakersListSchema = z.strictObject({ accounts: z.array(breakerSchema) });

export function breakerView(s: BreakerStatus): BreakerView {
  return {
    ...breakerRecordView(s),
    mode: s.mode,
    warning: s.warning,
    window: s.window,
    holds: accountHoldsView(s.holds),
  };
}

const tripped = {
  result: z.literal('tripped'),
  trip_id: z.string(),
  reason: z.enum(TRIP_REASONS),
  numbers: breakerNumbersSchema,
  /** The deactivation's idempotency key. */
  idempotency_key: z.string(),
};

/** `breaker trip --json`, `POST /v1/breaker/:account/trip` (200; open already: 409). */
export const tripSchema = z.discriminatedUnion('result', [
  z.strictObject({ account_id: accountIdSchema, ...tripped }),
  z.strictObject({ account_id: accountIdSchema, result: z.literal('open') }),
]);

export function tripView(accountId: string, r: TripResult): z.infer<typeof tripSchema> {
  if (r.result === 'tripped') {
    return {
      account_id: accountId,
      result: 'tripped',
      trip_id: r.tripId,
      reason: r.reason,
      numbers: r.numbers,
      idempotency_key: r.idempotencyKey,
    };
  }
  // A trip by hand answers `tripped` or `open`; a signal's other results never reach here.
  return { account_id: accountId, result: 'open' };
}

/** `breaker reset --json`, `POST /v1/breaker/:account/reset` (200; not open: 409). */
export const resetSchema = z.discriminatedUnion('result', [
  z.strictObject({
    account_id: accountIdSchema,
    result: z.literal('reset'),
    trip_id: z.string(),
    /** The activation's idempotency key; null when the account stays off. */
    idempotency_key: z.string().nullable(),
    /** The breaker's hold was there and is released. */
    released: z.boolean(),
    /** The other holds that keep the account off. */
    still_held_by: z.array(z.string()),
    /** The account's base when the breaker's hold was its last; null otherwise. */
    base: baseStateSchema.nullable(),
  }),
  z.strictObject({ account_id: accountIdSchema, result: z.literal('not_open') }),
]);

export function resetView(accountId: string, r: ResetResult): z.infer<typeof resetSchema> {
  if (r.result !== 'reset') return { account_id: accountId, result: 'not_open' };
  const h = r.hold;
  return {
    account_id: accountId,
    result: 'reset',
    trip_id: r.tripId,
    idempotency_key: r.activateKey,
    released: h.released,
    still_held_by: h.released && !h.last ? h.heldBy : [],
    base: h.released && h.last ? h.before : null,
  };
}

/** What one signal did (`signal --json`; `POST /v1/signals`, one or `{ results: [...] }`). */
export const signalResultSchema = z.discriminatedUnion('result', [
  z.strictObject({ result: z.enum(['duplicate', 'counted', 'open', 'stale']) }),
  z.strictObject({
    result: z.enum(['warned', 'would_trip']),
    reason: z.enum(['bounce_rate', 'complaint_rate']),
    numbers: breakerNumbersSchema,
    mode: z.enum(BREAKER_MODES),
  }),
  z.strictObject(tripped),
]);
export type SignalResultView = z.infer<typeof signalResultSchema>;
export const signalResultsSchema = z.strictObject({ results: z.array(signalResultSchema) });

export function signalResultView(r: SignalResult): SignalResultView {
  if (r.result === 'warned' || r.result === 'would_trip') {
    return { result: r.result, reason: r.reason, numbers: r.numbers, mode: r.mode };
  }
  if (r.result !== 'tripped') return { result: r.result };
  return {
    result: 'tripped',
    trip_id: r.tripId,
    reason: r.reason,
    numbers: r.numbers,
    idempotency_key: r.idempotencyKey,
  };
}

const webhookEventShape = {
  event_id: z.string(),
  type: z.string(),
  sender: z.string().nullable(),
  message_id: z.string().nullable(),
  at: timeSchema,
};
export const webhookCountsSchema = z.strictObject({
  results: z.strictObject(
    Object.fromEntries(WEBHOOK_RESULTS.map((r) => [r, z.number()])) as Record<
      (typeof WEBHOOK_RESULTS)[number],
      z.ZodNumber
    >,
  ),
  unresolved: z.array(z.strictObject(webhookEventShape)),
  ambiguous: z.array(
    z.strictObject({
      ...webhookEventShape,
      candidates: z.array(accountIdSchema),
      via: z.enum(['from_email', 'delivery_log']),
    }),
  ),
});

/** `GET /v1/webhooks/stats`. */
export const webhookStatsSchema = z.strictObject({
  ...webhookCountsSchema.shape,
  dead_letters: z.array(
    z.strictObject({
      inbox_id: z.string(),
      type: z.string(),
      deliveries: z.number(),
      error: z.string(),
      at: timeSchema,
    }),
  ),
  inbox: z.strictObject({ backlog: z.number(), entries: z.number(), bytes: z.number() }),
});

export function webhookCountsView(s: Omit<WebhookStatsView, 'dead_letters' | 'inbox'>) {
  return {
    results: { ...s.results },
    unresolved: s.unresolved.map((e) => ({
      event_id: e.event_id,
      type: e.type,
      sender: e.sender,
      message_id: e.message_id,
      at: e.at,
    })),
    ambiguous: s.ambiguous.map((e) => ({
      event_id: e.event_id,
      type: e.type,
      sender: e.sender,
      message_id: e.message_id,
      at: e.at,
      candidates: e.candidates,
      via: e.via,
    })),
  };
}

export function webhookStatsView(s: WebhookStatsView): z.infer<typeof webhookStatsSchema> {
  return {
    ...webhookCountsView(s),
    dead_letters: s.dead_letters.map((d) => ({
      inbox_id: d.inbox_id,
      type: d.type,
      deliveries: d.deliveries,
      error: d.error,
      at: d.at,
    })),
    inbox: { backlog: s.inbox.backlog, entries: s.inbox.entries, bytes: s.inbox.bytes },
  };
}

/** `breaker mode --json`, `GET /v1/breaker/mode`: the default mode and accounts with their own. */
export const breakerModesSchema = z.strictObject({
  default: z.strictObject({
    mode: z.enum(BREAKER_MODES),
    /** `runtime`: set by `breaker mode --default`; `settings`: BREAKER_MODE. */
    from: z.enum(['runtime', 'settings']),
    /** BREAKER_MODE (what clearing the run-time default goes back to). */
    settings: z.enum(BREAKER_MODES),
  }),
  accounts: z.array(
    z.strictObject({
      account_id: accountIdSchema,
      mode: z.enum(BREAKER_MODES),
      /** `runtime`: set by `breaker mode <account>`; `settings`: BREAKER_ACCOUNT_RULES. */
      from: z.enum(['runtime', 'settings']),
    }),
  ),
});

export function breakerModesView(m: BreakerModes): z.infer<typeof breakerModesSchema> {
  return { default: { ...m.default }, accounts: m.accounts.map((a) => ({ ...a })) };
}

/** `breaker mode ... <mode> --json`, `PUT /v1/breaker/mode`. */
export const modeChangeSchema = z.strictObject({
  /** The account; null for the default. */
  account_id: accountIdSchema.nullable(),
  /** The run-time mode now; null: cleared (the settings apply). */
  mode: z.enum(BREAKER_MODES).nullable(),
  previous: z.enum(BREAKER_MODES).nullable(),
  /** False when it was that already (nothing recorded). */
  changed: z.boolean(),
});

export function modeChangeView(c: ModeChange): z.infer<typeof modeChangeSchema> {
  return { account_id: c.accountId, mode: c.mode, previous: c.previous, changed: c.changed };
}
