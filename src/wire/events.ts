/**
 * Events as a user sees them: `events --json`, `GET /v1/events`, the status page's failures and
 * the CloudEvents `data` of a notification. The stream keeps `account_id`; here it is
 * `account_id` (and `account_ids`, and `still_held[].account_id`).
 */
import { z } from 'zod';
import {
  ACTION_EVENT_TYPES,
  ACTIONS,
  BREAKER_MODES,
  TRIP_REASONS,
  type ActionEvent,
  type StreamEvent,
  type WindowFailedEvent,
} from '../model.js';
import {
  accountIdSchema,
  baseStateSchema,
  outcomeDetailShape,
  sourceSchema,
  timeSchema,
} from './common.js';

/** Who did it (model/actor.ts); null in what older versions wrote. */
const actorSchemaOrNull = z.string().nullable();

/** The stream entry id (`<ms>-<seq>`); absent in a notification's `data` (it is the CloudEvent's). */
const streamId = z.string().optional();

export const breakerNumbersSchema = z.strictObject({
  window_s: z.number(),
  delivered: z.number(),
  bounced: z.number(),
  hard_bounced: z.number(),
  complained: z.number(),
  rejected: z.number(),
  bounce_rate: z.number().nullable(),
  complaint_rate: z.number().nullable(),
});

export const actionEventSchema = z.strictObject({
  id: streamId,
  type: z.enum(ACTION_EVENT_TYPES),
  account_id: accountIdSchema,
  action: z.enum(ACTIONS),
  idempotency_key: z.string(),
  job_id: z.string(),
  source: sourceSchema,
  source_ref: z.string().nullable(),
  actor: actorSchemaOrNull,
  reason: z.string(),
  attempts: z.number(),
  at: timeSchema,
  ...outcomeDetailShape,
});

const breakerTripped = z.strictObject({
  id: streamId,
  type: z.literal('breaker.tripped'),
  account_id: accountIdSchema,
  trip_id: z.string(),
  reason: z.enum(TRIP_REASONS),
  numbers: breakerNumbersSchema,
  idempotency_key: z.string(),
  actor: actorSchemaOrNull,
  at: timeSchema,
});
const breakerReset = z.strictObject({
  id: streamId,
  type: z.literal('breaker.reset'),
  account_id: accountIdSchema,
  trip_id: z.string(),
  idempotency_key: z.string().nullable(),
  still_held_by: z.array(z.string()),
  base: baseStateSchema.nullable(),
  actor: actorSchemaOrNull,
  at: timeSchema,
});
const breakerHalfOpen = z.strictObject({
  id: streamId,
  type: z.literal('breaker.half_open'),
  account_id: accountIdSchema,
  trip_id: z.string(),
  idempotency_key: z.string().nullable(),
  still_held_by: z.array(z.string()),
  cooldown_s: z.number(),
  base: baseStateSchema.nullable(),
  at: timeSchema,
});
const breakerWarned = z.strictObject({
  id: streamId,
  type: z.literal('breaker.warned'),
  account_id: accountIdSchema,
  reason: z.enum(['bounce_rate', 'complaint_rate']),
  numbers: breakerNumbersSchema,
  mode: z.enum(BREAKER_MODES),
  at: timeSchema,
});
const breakerWouldTrip = z.strictObject({
  id: streamId,
  type: z.literal('breaker.would_trip'),
  account_id: accountIdSchema,
  reason: z.enum(['bounce_rate', 'complaint_rate']),
  numbers: breakerNumbersSchema,
  mode: z.enum(['warn', 'watch']),
  at: timeSchema,
});
const breakerModeChanged = z.strictObject({
  id: streamId,
  type: z.literal('breaker.mode_changed'),
  account_id: accountIdSchema.nullable(),
  mode: z.enum(BREAKER_MODES).nullable(),
  previous: z.enum(BREAKER_MODES).nullable(),
  actor: actorSchemaOrNull,
  at: timeSchema,
});
const breakerClosed = z.strictObject({
  id: streamId,
  type: z.literal('breaker.closed'),
  account_id: accountIdSchema,
  trip_id: z.string(),
  idempotency_key: z.null(),
  at: timeSchema,
});

const windowStarted = z.strictObject({
  id: streamId,
  type: z.literal('window.started'),
  window_id: z.string(),
  occurrence: z.string(),
  starts_at: timeSchema,
  ends_at: timeSchema,
  late_ms: z.number(),
  switched_off: z.array(accountIdSchema),
  not_switched_off: z.array(accountIdSchema),
  already_off: z.array(accountIdSchema),
  missing: z.array(accountIdSchema),
  actor: actorSchemaOrNull,
  at: timeSchema,
});
const windowEnded = z.strictObject({
  id: streamId,
  type: z.literal('window.ended'),
  window_id: z.string(),
  occurrence: z.string(),
  starts_at: timeSchema,
  ends_at: timeSchema,
  reactivated: z.array(accountIdSchema),
  still_held: z.array(
    z.strictObject({ account_id: accountIdSchema, held_by: z.array(z.string()) }),
  ),
  stayed_off: z.array(accountIdSchema),
  base_unknown: z.array(accountIdSchema),
  gone: z.array(accountIdSchema),
  cancelled: z.boolean(),
  actor: actorSchemaOrNull,
  at: timeSchema,
});
const windowSkipped = z.strictObject({
  id: streamId,
  type: z.literal('window.skipped'),
  window_id: z.string(),
  occurrence: z.string(),
  starts_at: timeSchema,
  ends_at: timeSchema,
  reason: z.literal('ended_before_start'),
  actor: actorSchemaOrNull,
  at: timeSchema,
});
export const windowFailedEventSchema = z.strictObject({
  id: streamId,
  type: z.literal('window.failed'),
  window_id: z.string(),
  occurrence: z.string(),
  step: z.enum(['start', 'end']),
  account_ids: z.array(accountIdSchema),
  why: z.string(),
  actor: actorSchemaOrNull,
  at: timeSchema,
});

const windowDeleted = z.strictObject({
  id: streamId,
  type: z.literal('window.deleted'),
  window_id: z.string(),
  was: z.enum(['scheduled', 'over', 'cancelled']),
  actor: z.string().nullable(),
  at: timeSchema,
});

/** Any event, as a user sees it; narrow by `type`. */
export const eventSchema = z.union([
  actionEventSchema,
  breakerTripped,
  breakerReset,
  breakerHalfOpen,
  breakerClosed,
  breakerWarned,
  breakerWouldTrip,
  breakerModeChanged,
  windowStarted,
  windowEnded,
  windowSkipped,
  windowFailedEventSchema,
  windowDeleted,
]);
export type EventView = z.infer<typeof eventSchema>;
/** `GET /v1/events`. */
export const eventsListSchema = z.strictObject({ events: z.array(eventSchema) });
export type ActionEventView = z.infer<typeof actionEventSchema>;
export type WindowFailedEventView = z.infer<typeof windowFailedEventSchema>;

/**
 * An event from the stream, as a user sees it. The stored event already has the wire's names
 * (event-codec.ts reads older names); the view is where a stored field would be renamed or
 * left out, and the type check keeps the two equal.
 */
export function eventView(event: StreamEvent): EventView {
  return event;
}

/** An action event, as a user sees it. */
export function actionEventView(event: ActionEvent): ActionEventView {
  return event;
}

/** A `window.failed` event, as a user sees it. */
export function windowFailedEventView(event: WindowFailedEvent): WindowFailedEventView {
  return event;
}
