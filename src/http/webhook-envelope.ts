/**
 * What the webhook receiver reads of a signed body before storing it: its type, its event id
 * and its age. Pure; the body itself is stored as received and read fully by the consumer.
 */
import { isSignalType } from '../producers/breaker/webhook-events.js';

/** The header carrying the event id (lower case, as node reports headers). */
export const EVENT_ID_HEADER = 'x-sendmux-event-id';

/** How far ahead of this server's clock an `occurred_at` may be, unless told (5 min). */
export const DEFAULT_CLOCK_SKEW_MS = 300_000;

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
 * The rules, each checked on the signed body (API-NOTES.md: Sendmux's body always carries `id`
 * and `occurred_at`):
 * - `id` is required: the dedupe keys on it, and `X-Sendmux-Event-Id` is not covered by the
 *   signature, so a body without one could be replayed under ever new header ids. The header,
 *   when sent, must equal it.
 * - `occurred_at` must not be in the future by more than the allowed clock skew: the age check
 *   is what refuses a replay once its id may be forgotten, and a date ahead would never age.
 *
 * @param headerId - `X-Sendmux-Event-Id`.
 * @param maxAgeMs - the dedupe window: an event whose `occurred_at` is older is `expired`.
 * @param maxSkewMs - how far ahead of `nowMs` an `occurred_at` may be (WEBHOOK_CLOCK_SKEW_S).
 */
export function readEnvelope(
  raw: Buffer,
  headerId: string | readonly string[] | undefined,
  nowMs: number,
  maxAgeMs: number,
  maxSkewMs: number = DEFAULT_CLOCK_SKEW_MS,
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
  const id = fields.id;
  if (id === undefined || id === null || id === '') {
    return invalid(
      `id: is required in the (signed) body (the event id the dedupe keys on; ${EVENT_ID_HEADER} is not signed)`,
    );
  }
  if (typeof id !== 'string') return invalid('id: must be a string');
  if (!EVENT_ID.test(id)) return invalid('id: must be 1..255 visible ASCII characters');
  if (headerId !== undefined && headerId !== '' && headerId !== id) {
    return invalid(`${EVENT_ID_HEADER}: must equal the body's id`);
  }

  const occurredAt = fields.occurred_at;
  const at = typeof occurredAt === 'string' ? Date.parse(occurredAt) : Number.NaN;
  if (Number.isNaN(at)) return invalid('occurred_at: must be an ISO 8601 date-time');
  if (at - nowMs > maxSkewMs) {
    return invalid(
      `occurred_at: must not be in the future (more than ${Math.round(maxSkewMs / 1000)} s ahead of this server's clock, WEBHOOK_CLOCK_SKEW_S)`,
    );
  }
  if (nowMs - at > maxAgeMs) return { kind: 'expired', id, type };
  return { kind: 'counted', id, type };
}

function invalid(message: string): Envelope {
  return { kind: 'invalid', code: 'invalid_event', message };
}
