/**
 * What became of processed webhook events: the hash `<prefix>:webhook-stats` (one counter per
 * result), the list `<prefix>:webhook-unresolved` (the latest events no account could be found
 * for) and the list `<prefix>:webhook-ambiguous` (the latest events several accounts could have
 * sent, with those accounts), both newest first and capped, so that events counted for no
 * account are counted and visible.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';

/** Results of processing one stored webhook event. */
export const WEBHOOK_RESULTS = [
  'counted',
  /** Counted; a warning level crossed (`breaker.warned`). */
  'warned',
  /** Counted; the trip level crossed in mode warn or watch (`breaker.would_trip`). */
  'would_trip',
  'tripped',
  'open',
  'duplicate',
  'stale',
  'unresolved',
  /** Several accounts could have sent it (producers/breaker/resolve.ts): counted for none. */
  'ambiguous',
  'ignored',
  'invalid',
  /**
   * Delivered too often without being processed: moved to the dead letters
   * (webhook-inbox-dead.ts).
   */
  'dead_lettered',
] as const;
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

/** Unresolved events kept for inspection; as many ambiguous ones. */
export const UNRESOLVED_KEPT = 100;

export interface UnresolvedEvent {
  event_id: string;
  type: string;
  sender: string | null;
  message_id: string | null;
  at: string;
}

/** An event several accounts could have sent, and those accounts. */
export interface AmbiguousEvent extends UnresolvedEvent {
  /** The candidate account ids, sorted. */
  candidates: string[];
  /** What named them: a shared `from_email`, or a delivery log naming several accounts. */
  via: 'from_email' | 'delivery_log';
}

/** Count one result; an unresolved or ambiguous event is also kept (the latest ones). */
export async function countWebhookResult(
  redis: Redis,
  keys: Keys,
  ...[result, kept]:
    | [result: 'unresolved', kept: UnresolvedEvent]
    | [result: 'ambiguous', kept: AmbiguousEvent]
    | [result: Exclude<WebhookResult, 'unresolved' | 'ambiguous'>, kept?: undefined]
): Promise<void> {
  const m = redis.multi().hincrby(keys.webhookStats, result, 1);
  if (kept) {
    const list = result === 'ambiguous' ? keys.webhookAmbiguous : keys.webhookUnresolved;
    m.lpush(list, JSON.stringify(kept)).ltrim(list, 0, UNRESOLVED_KEPT - 1);
  }
  await m.exec();
}

export interface WebhookStats {
  results: Record<WebhookResult, number>;
  /** The latest unresolved events, newest first. */
  unresolved: UnresolvedEvent[];
  /** The latest ambiguous events with their candidates, newest first. */
  ambiguous: AmbiguousEvent[];
}

export async function readWebhookStats(
  redis: Redis,
  keys: Keys,
  recent = 20,
): Promise<WebhookStats> {
  const last = Math.max(0, recent - 1);
  const [h, unresolved, ambiguous] = await Promise.all([
    redis.hgetall(keys.webhookStats),
    redis.lrange(keys.webhookUnresolved, 0, last),
    redis.lrange(keys.webhookAmbiguous, 0, last),
  ]);
  const results = Object.fromEntries(
    WEBHOOK_RESULTS.map((r) => [r, Number(h[r] ?? 0) || 0]),
  ) as Record<WebhookResult, number>;
  return {
    results,
    unresolved: unresolved.map((j) => JSON.parse(j) as UnresolvedEvent),
    ambiguous: ambiguous.map((j) => JSON.parse(j) as AmbiguousEvent),
  };
}
