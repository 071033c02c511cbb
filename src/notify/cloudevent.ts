/**
 * Failure webhooks as CloudEvents 1.0 (structured mode, JSON): which events are sent, how one
 * becomes a CloudEvent, and the signed request that carries it. Pure functions.
 *
 * The CloudEvent of a stream event:
 *
 * | attribute         | value                                                               |
 * | ----------------- | ------------------------------------------------------------------- |
 * | `specversion`     | `1.0`                                                               |
 * | `id`              | the event's stream entry id (`<ms>-<seq>`): the same on every retry  |
 * | `source`          | `urn:sendmux-deactivator:<QUEUE_PREFIX, percent-encoded>`, e.g.      |
 * |                   | `urn:sendmux-deactivator:%7Bsdx%7D` for the default prefix `{sdx}`   |
 * | `type`            | `ai.sendmux.deactivator.` + the event type, e.g.                     |
 * |                   | `ai.sendmux.deactivator.action.failed`                               |
 * | `time`            | the event's `at` (RFC 3339, UTC)                                     |
 * | `subject`         | the account (`account_id`) for action and breaker events; the       |
 * |                   | window id for window events (their accounts are lists in `data`)     |
 * | `datacontenttype` | `application/json`                                                   |
 * | `data`            | the event as stored on the stream (without the stream id)            |
 *
 * `id` is unique within `source` (one deployment's stream), so receivers dedupe on the pair.
 * The request carries `content-type: application/cloudevents+json; charset=utf-8`,
 * `x-sendmux-signature: sha256=<hex>` (HMAC-SHA256 of the raw body keyed with NOTIFY_SECRET,
 * as Sendmux signs its own webhooks) and `webhook-id` (the CloudEvent id again, so a receiver
 * can dedupe before it parses the body).
 */
import { EVENT_TYPES, type EventType, type StreamEvent } from '../model.js';
import { webhookSignature } from '../sendmux/webhook-signature.js';
import { VERSION } from '../version.js';
import { eventView, type EventView } from '../wire/events.js';

/**
 * The event types POSTed to NOTIFY_URL; every other event stays on the stream only. The
 * breaker's warnings are sent unless the account's mode was `watch` (watching is silent).
 */
export const NOTIFY_EVENT_TYPES = [
  'action.failed',
  'breaker.tripped',
  'breaker.warned',
  'breaker.would_trip',
  'window.started',
  'window.ended',
  'window.skipped',
  'window.failed',
] as const satisfies readonly EventType[];
export type NotifyEventType = (typeof NOTIFY_EVENT_TYPES)[number];
export type NotifyEvent = Extract<StreamEvent, { type: NotifyEventType }>;

export function isNotifyEvent(event: StreamEvent): event is NotifyEvent {
  if (
    (event.type === 'breaker.warned' || event.type === 'breaker.would_trip') &&
    event.mode === 'watch'
  ) {
    return false;
  }
  return (NOTIFY_EVENT_TYPES as readonly string[]).includes(event.type);
}

/** The reverse-DNS prefix of every CloudEvent `type`. */
export const CLOUDEVENT_TYPE_PREFIX = 'ai.sendmux.deactivator.';
export const CLOUDEVENT_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';
/** Header names as node reports them (lower case). */
export const NOTIFY_SIGNATURE_HEADER = 'x-sendmux-signature';
export const NOTIFY_ID_HEADER = 'webhook-id';

/** The CloudEvent `type` of an event type: `ai.sendmux.deactivator.action.failed`. */
export function cloudEventType(type: EventType): string {
  return CLOUDEVENT_TYPE_PREFIX + type;
}

/** The event type a CloudEvent `type` stands for; undefined for anything else. */
export function eventTypeOf(cloudType: string): EventType | undefined {
  if (!cloudType.startsWith(CLOUDEVENT_TYPE_PREFIX)) return undefined;
  const type = cloudType.slice(CLOUDEVENT_TYPE_PREFIX.length);
  return (EVENT_TYPES as readonly string[]).includes(type) ? (type as EventType) : undefined;
}

/** The CloudEvent `source` of a deployment: `urn:sendmux-deactivator:<prefix, encoded>`. */
export function cloudEventSource(prefix: string): string {
  return `urn:sendmux-deactivator:${encodeURIComponent(prefix)}`;
}

export interface CloudEvent<D = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  subject: string;
  datacontenttype: 'application/json';
  data: D;
}

/** The time of an event (RFC 3339, UTC): its `at`, else the stream id's milliseconds. */
function eventTime(at: string | undefined, streamId: string): string {
  const fromAt = at === undefined ? NaN : Date.parse(at);
  if (Number.isFinite(fromAt)) return new Date(fromAt).toISOString();
  const fromId = Number(streamId.split('-')[0]);
  return new Date(Number.isFinite(fromId) ? fromId : 0).toISOString();
}

/** The account an event is about, or the window for a window event. */
export function cloudEventSubject(event: NotifyEvent): string {
  return 'window_id' in event ? event.window_id : event.account_id;
}

/**
 * The CloudEvent of an event read from the stream (its `id` is the stream entry id).
 * Throws when the event has no stream id: the CloudEvent id would not be stable.
 */
export function toCloudEvent(
  event: NotifyEvent,
  prefix: string,
): CloudEvent<Omit<EventView, 'id'>> {
  // `data` is the event as users see it everywhere (wire/events.ts): `account_id`, not the
  // stream's `account_id`.
  const { id } = event;
  const data: Omit<EventView, 'id'> = { ...eventView(event) };
  delete (data as { id?: string }).id;
  if (id === undefined || id === '') {
    throw new Error(`a ${event.type} event without its stream id cannot be notified`);
  }
  return {
    specversion: '1.0',
    id,
    source: cloudEventSource(prefix),
    type: cloudEventType(event.type),
    time: eventTime(event.at, id),
    subject: cloudEventSubject(event),
    datacontenttype: 'application/json',
    data,
  };
}

/** The body to POST: the CloudEvent as JSON (kept as text so every retry sends these bytes). */
export function cloudEventBody(event: CloudEvent): string {
  return JSON.stringify(event);
}

/**
 * The headers of a delivery of `body`. The signature is made here, at send time, from the
 * secret in the process's settings: neither is ever stored or logged.
 */
export function notifyHeaders(secret: string, cloudEventId: string, body: string) {
  return {
    'content-type': CLOUDEVENT_CONTENT_TYPE,
    [NOTIFY_SIGNATURE_HEADER]: webhookSignature(secret, body),
    [NOTIFY_ID_HEADER]: cloudEventId,
    'user-agent': `sendmux-deactivator/${VERSION} (failure webhooks)`,
  };
}
