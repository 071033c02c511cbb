/**
 * The one place that names Redis keys and the queue.
 *
 * Every key starts with the deployment prefix (default `{sdx}`, a hash tag), so all of one
 * deployment's keys - BullMQ's and ours - live in one Redis Cluster slot and multi-key
 * scripts stay legal.
 */

/** The BullMQ queue every producer feeds and every worker drains. */
export const QUEUE_NAME = 'actions';
/**
 * The BullMQ queue of urgent intents (the breaker's): the same jobs as `actions`, served by
 * every worker with no BullMQ limiter, so a trip never waits for a slot of the actions queue's.
 * Its calls spend the API key's window (rate-budget.ts) like every call, and wait while the
 * actions queue is paused (a 429, a refused key, the low watermark).
 */
export const URGENT_QUEUE_NAME = 'urgent';
/**
 * The BullMQ queue of maintenance windows' timed steps (an occurrence's start and end; the
 * recurring windows' job schedulers). Its jobs make intents when they run, never before.
 */
export const WINDOW_QUEUE_NAME = 'windows';
/**
 * The BullMQ queue of failure webhooks (NOTIFY_URL): one job per forwarded event, id
 * `ev-<stream entry id>`, whose body is the CloudEvent to POST (src/notify).
 */
export const NOTIFY_QUEUE_NAME = 'notifications';

export interface Keys {
  prefix: string;
  /**
   * Hash binding an idempotency key to its intent and tracking its state (see binding.ts).
   * Always `binding('')` + the key: claim-keys.ts builds binding keys in Lua that way.
   */
  binding(key: string): string;
  /** Sorted set of keys bound but not yet terminal, scored by claim time (ms). */
  pending: string;
  /** Counter giving every new binding its sequence number (the intent's place in line). */
  sequence: string;
  /**
   * Hash with the newest intent asked for an account: `seq`, `key`. Always
   * `accountOrder('')` + the id: claim-keys.ts builds these keys in Lua that way.
   */
  accountOrder(accountId: string): string;
  /** String: the idempotency key whose call on an account is in flight (expires). */
  accountLease(accountId: string): string;
  /** Hash with the last known status of one account (see status-record.ts). */
  status(accountId: string): string;
  /** Sorted set of account ids with a recorded status, scored by last change (ms). */
  statusIndex: string;
  /** Redis Stream of events. */
  events: string;
  /** String: set while one worker repairs stuck intents (expires). */
  repairTurn: string;
  /** String: set by the worker whose turn it is to run the retention sweep (expires). */
  retentionTurn: string;
  /** Hash: one bulk run's settings and counters (see batch-record.ts). */
  batch(batchId: string): string;
  /** Hash: the accounts of a bulk run -> '' while queued, their terminal event's JSON after. */
  batchAccounts(batchId: string): string;
  /**
   * Hash: what `batch undo` did with each account of a bulk run -> its result, and the
   * activation's outcome once it has one (batch-undo-record.ts).
   */
  batchUndo(batchId: string): string;
  /** Hash: the account ids one enqueueing pass of a bulk run has seen (finds repeats; expires). */
  batchPassSeen(batchId: string, pass: number): string;
  /** Sorted set of bulk run ids, scored by their first start (ms). */
  batchIndex: string;
  /** Hash: the API key's window as the API counts it, shared by every worker (rate-budget.ts). */
  rateBudget: string;
  /**
   * Redis Stream: the webhook inbox, accepted Sendmux webhook events waiting to be processed
   * (fields `type`, `body`; read with a consumer group, see webhook-inbox-read.ts).
   */
  webhookInbox: string;
  /**
   * String: bytes of the bodies (and types) stored in the webhook inbox, added on append and
   * taken off when trimmed, in the same scripts (webhook-inbox-append.ts, webhook-inbox-trim.ts);
   * the inbox's byte cap.
   */
  webhookInboxBytes: string;
  /** String: set once a webhook event id is in the inbox (dedupes retried deliveries; expires). */
  webhookSeen(eventId: string): string;
  /**
   * Stream: inbox entries the breaker gave up on after too many deliveries (a record its
   * processing always fails on), with why; capped (webhook-inbox-dead.ts).
   */
  webhookDead: string;
  /**
   * Hash: an account's holds (reasons to stay off) and its state before the first (holds.ts).
   * Always `holds('')` + the id: holds.ts builds these keys in Lua that way.
   */
  holds(accountId: string): string;
  /** Sorted set of accounts with at least one hold, scored by the first hold's time (ms). */
  holdsIndex: string;
  /** Hash: an account's breaker state and last trip (breaker-state.ts). */
  breaker(accountId: string): string;
  /**
   * Hash: an account's signal counts of one minute (expires after the window). Always
   * `breakerBuckets(id)` + the minute number: breaker-trip.ts builds these keys in Lua.
   */
  breakerBucket(accountId: string, minute: number): string;
  /** The common start of an account's minute bucket keys. */
  breakerBuckets(accountId: string): string;
  /** Sorted set of accounts the breaker has counted signals for, scored by the last (ms). */
  breakerIndex: string;
  /** Sorted set of accounts whose breaker has a timed step, scored by when it is due (ms). */
  breakerDue: string;
  /** Hash: the deployment's breaker trips, one counter per reason (breaker-trip-count.ts). */
  breakerTrips: string;
  /**
   * Hash: run-time breaker modes (`breaker mode`, breaker-mode.ts): field `*` the default, an
   * account id that account's; read by the trip step over the settings.
   */
  breakerModes: string;
  /**
   * Sorted set of accounts with a `breaker.warned` or `breaker.would_trip` in the last day,
   * scored by the latest (ms): the status page's warnings.
   */
  breakerWarnings: string;
  /** String: set once a signal id has been counted (dedupes retried deliveries; expires). */
  signalSeen(signalId: string): string;
  /** Hash: what became of processed webhook events, one counter per result (webhook-stats.ts). */
  webhookStats: string;
  /** List: the latest webhook events no account could be found for (capped). */
  webhookUnresolved: string;
  /** List: the latest webhook events several accounts could have sent, with them (capped). */
  webhookAmbiguous: string;
  /** Hash: a maintenance window's settings and state (windows.ts). */
  window(windowId: string): string;
  /** Sorted set of window ids, scored by creation (ms). */
  windowIndex: string;
  /** Hash: one occurrence of a window: its times, state, what it read and did (windows.ts). */
  windowOccurrence(windowId: string, occurrence: string): string;
  /** Sorted set of a window's occurrences that began, scored by their start (ms). */
  windowOccurrences(windowId: string): string;
  /**
   * BullMQ's lock of a job (holds the token of the run that owns it), in the actions queue or
   * the one named (the urgent queue's jobs have theirs there).
   */
  jobLock(jobId: string, queue?: string): string;
  /** BullMQ's rate-limiter key of the queue: while it is over the limit, no worker takes jobs. */
  limiter: string;
}

export function keysFor(prefix: string): Keys {
  return {
    prefix,
    binding: (key) => `${prefix}:idem:${key}`,
    pending: `${prefix}:pending`,
    sequence: `${prefix}:seq`,
    accountOrder: (accountId) => `${prefix}:order:${accountId}`,
    accountLease: (accountId) => `${prefix}:lease:${accountId}`,
    status: (accountId) => `${prefix}:status:${accountId}`,
    statusIndex: `${prefix}:status-index`,
    events: `${prefix}:events`,
    repairTurn: `${prefix}:repair-turn`,
    retentionTurn: `${prefix}:retention-turn`,
    batch: (batchId) => `${prefix}:batch:${batchId}`,
    batchAccounts: (batchId) => `${prefix}:batch:${batchId}:accounts`,
    batchUndo: (batchId) => `${prefix}:batch:${batchId}:undo`,
    batchPassSeen: (batchId, pass) => `${prefix}:batch:${batchId}:pass:${pass}`,
    batchIndex: `${prefix}:batches`,
    rateBudget: `${prefix}:rate-budget`,
    webhookInbox: `${prefix}:webhook-inbox`,
    webhookInboxBytes: `${prefix}:webhook-inbox-bytes`,
    webhookSeen: (eventId) => `${prefix}:webhook-seen:${eventId}`,
    webhookDead: `${prefix}:webhook-dead`,
    holds: (accountId) => `${prefix}:holds:${accountId}`,
    holdsIndex: `${prefix}:holds-index`,
    breaker: (accountId) => `${prefix}:breaker:${accountId}`,
    breakerBucket: (accountId, minute) => `${prefix}:breaker:${accountId}:m:${minute}`,
    breakerBuckets: (accountId) => `${prefix}:breaker:${accountId}:m:`,
    breakerIndex: `${prefix}:breaker-index`,
    breakerDue: `${prefix}:breaker-due`,
    breakerTrips: `${prefix}:breaker-trips`,
    breakerModes: `${prefix}:breaker-mode`,
    breakerWarnings: `${prefix}:breaker-warnings`,
    signalSeen: (signalId) => `${prefix}:signal:${signalId}`,
    webhookStats: `${prefix}:webhook-stats`,
    webhookUnresolved: `${prefix}:webhook-unresolved`,
    webhookAmbiguous: `${prefix}:webhook-ambiguous`,
    window: (windowId) => `${prefix}:window:${windowId}`,
    windowIndex: `${prefix}:windows`,
    windowOccurrence: (windowId, occurrence) => `${prefix}:window:${windowId}:o:${occurrence}`,
    windowOccurrences: (windowId) => `${prefix}:window:${windowId}:occurrences`,
    jobLock: (jobId, queue = QUEUE_NAME) => `${prefix}:${queue}:${jobId}:lock`,
    limiter: `${prefix}:${QUEUE_NAME}:limiter`,
  };
}
