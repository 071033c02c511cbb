/**
 * The one place that names Redis keys and the queue.
 *
 * Every key starts with the deployment prefix (default `{sdx}`, a hash tag), so all of one
 * deployment's keys - BullMQ's and ours - live in one Redis Cluster slot and multi-key
 * scripts stay legal.
 */

/** The BullMQ queue every producer feeds and every worker drains. */
export const QUEUE_NAME = 'actions';

export interface Keys {
  prefix: string;
  /** Hash binding an idempotency key to its intent: fp, job_id, state, created_at, finished_at. */
  idempotency(key: string): string;
  /** Hash with the last known status of one account. */
  status(providerId: string): string;
  /** Sorted set of provider ids with a recorded status, scored by last change (ms). */
  statusIndex: string;
  /** Redis Stream of `action.succeeded` / `action.failed` events. */
  events: string;
}

export function keysFor(prefix: string): Keys {
  return {
    prefix,
    idempotency: (key) => `${prefix}:idem:${key}`,
    status: (providerId) => `${prefix}:status:${providerId}`,
    statusIndex: `${prefix}:status-index`,
    events: `${prefix}:events`,
  };
}
