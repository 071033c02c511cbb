/**
 * Events on the Redis Stream: each entry holds one field, {@link EVENT_FIELD}, the event as
 * JSON (the same text the binding and the status hash keep of it). One value per event keeps
 * the outcome script small: a field list would cost Redis and the worker a value per field,
 * three times over (stream, binding, status).
 */
import {
  ACTION_EVENT_TYPES,
  EVENT_TYPES,
  normalizeSource,
  type ActionEvent,
  type StreamEvent,
} from '../model.js';

/** The event types that name an actor (model/events.ts and friends). */
const HAS_ACTOR = /^(action\.|window\.|breaker\.(tripped|reset|mode_changed)$)/;

/** The stream entry's only field. */
export const EVENT_FIELD = 'event';

/** What stands for the actor in a template a script fills in (see {@link withActor}). */
export const ACTOR_MARK = '\u0001actor';

/**
 * A template (an event or hold JSON a script fills in with `string.gsub`, replacing
 * `__TRIP__`...) with its actor written in: every `_` as `\u005f`, so that no placeholder can
 * match inside a name someone chose. JSON readers read it back unchanged.
 */
export function withActor(template: string, actor: string | null): string {
  const literal = actor === null ? 'null' : JSON.stringify(actor).replace(/_/g, '\\u005f');
  return template.replace(JSON.stringify(ACTOR_MARK), () => literal);
}

/** The event as stored; written without `id` (Redis gives the stream entry its id). */
export function encodeEvent(event: StreamEvent): string {
  return JSON.stringify(event);
}

function decodeOf<T extends StreamEvent>(
  types: readonly T['type'][],
): (id: string | undefined, json: string) => T {
  return (id, json) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new Error(`event ${id ?? ''} is not JSON`);
    }
    const type = (parsed as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !(types as readonly string[]).includes(type)) {
      throw new Error(`event ${id ?? ''} has an unknown type "${String(type)}"`);
    }
    const event = parsed as T;
    // An older version's `maintenance` source is today's `window` (model.ts).
    if ('source' in event) Object.assign(event, { source: normalizeSource(event.source) });
    renameOld(event as unknown as Record<string, unknown>);
    // Events written before actors existed have none: null (the breaker's half-open and
    // closed events name no actor).
    if (!('actor' in event) && HAS_ACTOR.test(type)) Object.assign(event, { actor: null });
    return id === undefined ? event : { id, ...event };
  };
}

/** 0.1.x and 0.2.0 wrote the account as `provider_id` (`provider_ids`, `still_held[].provider_id`). */
function renameOld(event: Record<string, unknown>): void {
  if ('provider_id' in event) {
    event['account_id'] = event['provider_id'];
    delete event['provider_id'];
  }
  if ('provider_ids' in event) {
    event['account_ids'] = event['provider_ids'];
    delete event['provider_ids'];
  }
  const held = event['still_held'];
  if (Array.isArray(held)) {
    for (const h of held) renameOld(h as Record<string, unknown>);
  }
}

/** Parse a stream event's JSON; `id` is the stream entry id, when it comes from the stream. */
export const decodeEvent = decodeOf<StreamEvent>(EVENT_TYPES);

/** Parse an intent's terminal event (as bindings, statuses and batches keep it). */
export const decodeActionEvent = decodeOf<ActionEvent>(ACTION_EVENT_TYPES);

/** Rebuild an event from a stream entry's flat field list. */
export function decodeEntry(id: string, flat: readonly string[]): StreamEvent {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i] === EVENT_FIELD) return decodeEvent(id, flat[i + 1] ?? '');
  }
  throw new Error(`stream entry ${id} has no "${EVENT_FIELD}" field`);
}
