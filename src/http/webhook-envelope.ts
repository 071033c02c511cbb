/**
 * What the webhook receiver reads of a signed body before storing it: its type, its event id
 * and its age. Pure; the body itself is stored as received and read fully by the consumer.
 */
import { isSignalType } from '../producers/breaker/webhook-events.js';

/** The header carrying the event id (lower case, as node reports headers). */
export const EVENT_ID_HEADER = 'x-sendmux-event-id';

/** Like an idempotency key: 1..255 visible ASCII characters. */
const EVENT_ID = /^[\x21-\x7e]{1,255}$/;

export type Envelope =
  /** A type the breaker counts: store it (once per id). */
  | { kind: 'counted'; id: string; type: string }
  /** Another type (`sendmux.test`, `message.delivery_delayed`, ...): answer 2xx, store nothing. */
  | { kind: 'ignored'; type: string }
  /**
   * Older than the dedupe window: its id may have been forgotten, so it could be a replay.
   * Sendmux retries for 24 h, well inside the window, so no real delivery is this old.
   */
  | { kind: 'expired'; id: string; type: string }
  | { kind: 'invalid'; code: 'invalid_json' | 'invalid_event'; message: string };

/**
 * @param headerId - `X-Sendmux-Event-Id`. It is not covered by the signature, so when the
 *   (signed) body has an `id` too the two must agree: a replayed body under a new header id
 *   would otherwise pass the dedupe.
 * @param maxAgeMs - the dedupe window: an event whose `occurred_at` is older is `expired`.
 */
export function readEnvelope(
  raw: Buffer,
  headerId: string | readonly string[] | undefined,
  nowMs: number,
  maxAgeMs: number,
): Envelope {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { kind: 'invalid', code: 'invalid_json', message: `body: is not JSON (${reason})` };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return invalid('body: must be a JSON object');
  }
  const fields = body as Record<string, unknown>;
  const type = fields.type;
  if (typeof type !== 'string' || type === '') return invalid('type: must be a non-empty string');
  if (!isSignalType(type)) return { kind: 'ignored', type };

  if (Array.isArray(headerId)) return invalid(`${EVENT_ID_HEADER}: must be sent once`);
  const bodyId = fields.id;
  if (bodyId !== undefined && typeof bodyId !== 'string') return invalid('id: must be a string');
  const id = typeof headerId === 'string' && headerId !== '' ? headerId : bodyId;
  if (id === undefined || id === '') {
    return invalid(`${EVENT_ID_HEADER} (or the body's id): is required`);
  }
  if (!EVENT_ID.test(id)) {
    return invalid(`${EVENT_ID_HEADER}: must be 1..255 visible ASCII characters`);
  }
  if (bodyId !== undefined && bodyId !== id) {
    return invalid(`${EVENT_ID_HEADER}: must equal the body's id`);
  }

  const occurredAt = fields.occurred_at;
  const at = typeof occurredAt === 'string' ? Date.parse(occurredAt) : Number.NaN;
  if (Number.isNaN(at)) return invalid('occurred_at: must be an ISO 8601 date-time');
  if (nowMs - at > maxAgeMs) return { kind: 'expired', id, type };
  return { kind: 'counted', id, type };
}

function invalid(message: string): Envelope {
  return { kind: 'invalid', code: 'invalid_event', message };
}
