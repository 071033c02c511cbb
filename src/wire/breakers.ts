/**
 * The breaker as a user sees it: `breaker status|trip|reset --json`, `signal --json` and their
 * routes (`GET /v1/breaker[/:account]`, `POST .../trip|reset`, `POST /v1/signals`), and the
 * webhook counters (`GET /v1/webhooks/stats`). Trip and reset answers use the words of their
 * events (`trip_id`, `idempotency_key`, `still_held_by`, `base`).
 */
import { z } from 'zod';
import { TRIP_REASONS } from '../model.js';
import type { WebhookStatsView } from '../ops/breaker-service.js';
import type { BreakerStatus, SignalResult } from '../producers/breaker/breaker.js';
import type { ResetResult } from '../store/breaker-reset.js';
import { BREAKER_STATES, type BreakerRecord } from '../store/breaker-state.js';
import type { TripResult } from '../store/breaker-trip.js';
import { WEBHOOK_RESULTS } from '../store/webhook-stats.js';
import { accountHoldsSchema, accountHoldsView } from './accounts.js';
import { accountIdSchema, baseStateSchema, timeSchema } from './common.js';
import { breakerNumbersSchema } from './events.js';

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
  };
}

/** One account's breaker: its record, the counts over the window ending now, its holds. */
export const breakerSchema = z.strictObject({
  ...breakerRecordShape,
  window: breakerNumbersSchema,
  holds: accountHoldsSchema,
});
export type BreakerView = z.infer<typeof breakerSchema>;

/** `GET /v1/breaker`. */
export const breakersListSchema = z.strictObject({ accounts: z.array(breakerSchema) });

export function breakerView(s: BreakerStatus): BreakerView {
  return { ...breakerRecordView(s), window: s.window, holds: accountHoldsView(s.holds) };
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
  z.strictObject(tripped),
]);
export type SignalResultView = z.infer<typeof signalResultSchema>;
export const signalResultsSchema = z.strictObject({ results: z.array(signalResultSchema) });

export function signalResultView(r: SignalResult): SignalResultView {
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
