/**
 * What became of processed webhook events: the hash `<prefix>:webhook-stats` (one counter per
 * result) and the list `<prefix>:webhook-unresolved` (the latest events no account could be
 * found for, newest first, capped), so that unresolved events are counted and visible.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** Results of processing one stored webhook event. */
export const WEBHOOK_RESULTS = [
  'counted',
  'tripped',
  'open',
  'duplicate',
  'stale',
  'unresolved',
  'ignored',
  'invalid',
  /** Delivered too often without being processed: moved to the dead letters (webhook-inbox.ts). */
  'dead_lettered',
] as const;
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

/** Unresolved events kept for inspection. */
const UNRESOLVED_KEPT = 100;

export interface UnresolvedEvent {
  event_id: string;
  type: string;
  sender: string | null;
  message_id: string | null;
  at: string;
}

/** Count one result; an unresolved event is also kept (the latest ones). */
export async function countWebhookResult(
  redis: Redis,
  keys: Keys,
  result: WebhookResult,
  unresolved?: UnresolvedEvent,
): Promise<void> {
  const m = redis.multi().hincrby(keys.webhookStats, result, 1);
  if (unresolved) {
    m.lpush(keys.webhookUnresolved, JSON.stringify(unresolved)).ltrim(
      keys.webhookUnresolved,
      0,
      UNRESOLVED_KEPT - 1,
    );
  }
  await m.exec();
}

export interface WebhookStats {
  results: Record<WebhookResult, number>;
  /** The latest unresolved events, newest first. */
  unresolved: UnresolvedEvent[];
}

export async function readWebhookStats(
  redis: Redis,
  keys: Keys,
  recent = 20,
): Promise<WebhookStats> {
  const [h, list] = await Promise.all([
    redis.hgetall(keys.webhookStats),
    redis.lrange(keys.webhookUnresolved, 0, Math.max(0, recent - 1)),
  ]);
  const results = Object.fromEntries(
    WEBHOOK_RESULTS.map((r) => [r, Number(h[r] ?? 0) || 0]),
  ) as Record<WebhookResult, number>;
  return { results, unresolved: list.map((j) => JSON.parse(j) as UnresolvedEvent) };
}
