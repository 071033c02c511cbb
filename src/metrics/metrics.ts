/**
 * Prometheus metrics: one prom-client registry per process, served as text at `GET /metrics`
 * (http/probe-routes.ts; behind the admin token) by `serve`, `start`, and `worker` when
 * WORKER_METRICS_PORT is set. The worker code and the server in one process (`start`) share it.
 *
 * Counters and histograms are recorded in-process by the code paths themselves (the client's
 * request, the processor's outcomes and put-backs, the breaker's trips, the windows' steps, the
 * webhook receiver and the inbox consumer): each is a plain increment, no await and no Redis
 * call. Each process counts what it did; Prometheus sums the instances (`sum(rate(...))`).
 * Gauges of shared state (queue depths, breaker states) and the deployment's breaker trips are read from Redis at scrape time by
 * their `collect()` (scrape-gauges.ts), each bounded by `SCRAPE_PART_TIMEOUT_MS`: a part Redis does not answer in
 * time is left out of that scrape (and counted in `scrape_errors_total`), never waited for.
 * No label ever carries an account id (cardinality; the events stream has the details).
 *
 * | Metric (prefix `sendmux_deactivator_`) | Type | Labels | What |
 * | --- | --- | --- | --- |
 * | `actions_total` | counter | `action` (deactivate, activate), `outcome` (succeeded, failed, superseded, cancelled), `source` (manual, bulk, breaker, window) | Outcomes recorded by this process (counted once, by `store/record-outcome.ts` when the outcome is written: by its workers, their backstop and start-up repair, or `batch cancel`) |
 * | `api_requests_total` | counter | `method` (GET, POST), `route` (`/providers/{id}/deactivate`, `/providers/{id}/activate`, `/providers/{id}`, `/providers`, `/emails/logs`), `status` (the HTTP status, or `timeout` / `network_error` when no answer came) | Sendmux API calls |
 * | `api_request_duration_seconds` | histogram | `operation` (deactivate, activate, get, list, search_logs), `status_class` (2xx, 3xx, 4xx, 5xx, error) | Latency of one API call, to the end of its body |
 * | `put_backs_total` | counter | `wait` (rate_limit, in_flight, auth, shutdown) | Jobs put back without using an attempt |
 * | `rate_limit_waits_total` | counter | `cause` (429, budget, low_watermark) | Waits for the API's rate limit: a 429 put-back (which pauses every worker), a job that waited for the shared rate budget, a pause at the low watermark |
 * | `rate_limit_wait_seconds_total` | counter | `cause` (as above) | Seconds of those waits: the queue pause a 429 or the low watermark set (or found longer), the time a job waited for the budget |
 * | `breaker_trips_total` | counter | `reason` (bounce_rate, complaint_rate, manual) | Breaker trips made by this process |
 * | `breaker_warnings_total` | counter | `type` (warned, would_trip), `reason` (bounce_rate, complaint_rate), `mode` (act, warn, watch) | Breaker warnings said by this process: a warning level crossed, or the trip level in mode warn or watch (once per window per account) |
 * | `breaker_trips_shared_total` | counter | `reason` (as above) | Breaker trips made by any process of the deployment, the CLI's and library users' included: a count kept in Redis (store/breaker-trip-count.ts), read at scrape (scrape-gauges.ts); the same in every process (`max`, not `sum`) |
 * | `breakers` | gauge | `state` (closed, open, half_open) | Breakers by state, read from Redis at scrape (the `BREAKER_SCAN_MAX` most recently active accounts; `closed` also counts the rest of the index) |
 * | `window_transitions_total` | counter | `kind` (started, ended, skipped) | Maintenance-window occurrences this process started, ended or skipped |
 * | `webhooks_accepted_total` | counter | | Webhook deliveries stored in the inbox (202) |
 * | `webhooks_rejected_total` | counter | `reason` (secret_unset, body_too_large, invalid_signature, invalid_json, invalid_event, ignored, expired, duplicate, redis_unavailable, inbox_full) | Webhook deliveries not stored, by why (`redis_unavailable`: answered 503 with Retry-After, Redis not connected or too slow; `inbox_full`: 503 with Retry-After, the inbox full of events not yet processed) |
 * | `http_connections_refused_total` | counter | | Connections the HTTP server closed as they opened, HTTP_MAX_CONNECTIONS being open |
 * | `webhook_events_total` | counter | `result` (counted, warned, would_trip, tripped, open, duplicate, stale, unresolved, ambiguous, ignored, invalid, dead_lettered) | Stored webhook events the breaker's inbox consumer processed; `unresolved`: no account found; `ambiguous`: several accounts could have sent it, counted for none; `dead_lettered`: given up on after too many failed deliveries |
 * | `queue_jobs` | gauge | `queue` (actions, notifications, urgent, windows), `state` (waiting, active, delayed, prioritized, waiting-children, completed, failed) | Jobs per queue and state (BullMQ's getJobCounts at scrape) |
 * | `notifications_total` | counter | `result` (delivered, retried, dropped, refused) | Failure-webhook POSTs: delivered (2xx), retried (will be tried again), dropped (out of attempts), refused (a 4xx, not tried again) |
 * | `webhook_inbox_backlog` | gauge | | Webhook events stored in the inbox (202) but not yet processed by a breaker consumer, read from Redis at scrape; the same in every process (`max`, not `sum`) |
 * | `scrape_errors_total` | counter | `part` (queue_jobs, breakers, breaker_trips, webhook_inbox) | Scrape-time reads left out (Redis error or slower than `SCRAPE_PART_TIMEOUT_MS`) |
 *
 * Plus prom-client's default process metrics (`process_*`, `nodejs_*`), enabled by
 * {@link enableProcessMetrics} when a metrics route is served.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Action, Source } from '../model.js';

/** Prefix of every metric of this project. */
export const METRIC_PREFIX = 'sendmux_deactivator_';

/** This process's registry (the only one: every metric below registers here). */
export const registry = new Registry();

/** A metric's full name (scrape-gauges.ts names its gauges with it too). */
export const metricName = (n: string) => `${METRIC_PREFIX}${n}`;
const name = metricName;

const actions = new Counter({
  name: name('actions_total'),
  help: 'Action outcomes recorded by this process, by action, outcome and source (the producer that asked).',
  labelNames: ['action', 'outcome', 'source'] as const,
  registers: [registry],
});

const apiRequests = new Counter({
  name: name('api_requests_total'),
  help: 'Sendmux API calls, by method, route template and HTTP status (timeout or network_error without an answer).',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

const apiDuration = new Histogram({
  name: name('api_request_duration_seconds'),
  help: 'Latency of Sendmux API calls (to the end of the answer), by operation and status class.',
  labelNames: ['operation', 'status_class'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

const putBacks = new Counter({
  name: name('put_backs_total'),
  help: 'Jobs put back without using an attempt, by the wait they count as.',
  labelNames: ['wait'] as const,
  registers: [registry],
});

const rateLimitWaits = new Counter({
  name: name('rate_limit_waits_total'),
  help: 'Waits for the rate limit: 429 put-backs, jobs that waited for the shared budget, low-watermark pauses.',
  labelNames: ['cause'] as const,
  registers: [registry],
});

const rateLimitWaitSeconds = new Counter({
  name: name('rate_limit_wait_seconds_total'),
  help: 'Seconds of rate-limit waits: the queue pause set (429, low watermark), the time waited (budget).',
  labelNames: ['cause'] as const,
  registers: [registry],
});

const breakerTrips = new Counter({
  name: name('breaker_trips_total'),
  help: 'Breaker trips made by this process, by reason.',
  labelNames: ['reason'] as const,
  registers: [registry],
});

const breakerWarnings = new Counter({
  name: name('breaker_warnings_total'),
  help: 'Breaker warnings said by this process: warned (a warning level crossed) or would_trip (the trip level crossed in mode warn or watch), by reason and mode.',
  labelNames: ['type', 'reason', 'mode'] as const,
  registers: [registry],
});

const windowTransitions = new Counter({
  name: name('window_transitions_total'),
  help: 'Maintenance-window occurrences started, ended or skipped by this process.',
  labelNames: ['kind'] as const,
  registers: [registry],
});

const webhooksAccepted = new Counter({
  name: name('webhooks_accepted_total'),
  help: 'Sendmux webhook deliveries stored in the inbox.',
  registers: [registry],
});

const webhooksRejected = new Counter({
  name: name('webhooks_rejected_total'),
  help: 'Sendmux webhook deliveries not stored, by reason.',
  labelNames: ['reason'] as const,
  registers: [registry],
});

const httpConnectionsRefused = new Counter({
  name: name('http_connections_refused_total'),
  help: 'Connections the HTTP server closed as they opened (HTTP_MAX_CONNECTIONS open already).',
  registers: [registry],
});

const webhookEvents = new Counter({
  name: name('webhook_events_total'),
  help: 'Stored webhook events processed by the breaker, by result (unresolved: no account found; ambiguous: several accounts possible, counted for none).',
  labelNames: ['result'] as const,
  registers: [registry],
});

const notifications = new Counter({
  name: name('notifications_total'),
  help: 'Failure-webhook POSTs by this process, by result (delivered, retried, dropped: out of attempts, refused: a 4xx not tried again).',
  labelNames: ['result'] as const,
  registers: [registry],
});

const scrapeErrors = new Counter({
  name: name('scrape_errors_total'),
  help: 'Scrape-time reads of Redis left out of a scrape (an error, or too slow).',
  labelNames: ['part'] as const,
  registers: [registry],
});

// ---- recording (the code paths call these; each is an in-memory increment) ----

export type ActionOutcomeLabel = 'succeeded' | 'failed' | 'superseded' | 'cancelled';

export function countAction(action: Action, outcome: ActionOutcomeLabel, source: Source): void {
  actions.inc({ action, outcome, source });
}

/** What an API call was, for its labels. */
export type ApiOperation = 'deactivate' | 'activate' | 'get' | 'list' | 'search_logs';

/** The route template of each operation (no ids: labels stay few). */
export const API_ROUTES: Readonly<Record<ApiOperation, string>> = {
  deactivate: '/providers/{id}/deactivate',
  activate: '/providers/{id}/activate',
  get: '/providers/{id}',
  list: '/providers',
  search_logs: '/emails/logs',
};

/**
 * One API call: `status` is the HTTP status, or the error code when no answer came
 * (`timeout`, `network_error`).
 */
export function observeApiCall(
  operation: ApiOperation,
  method: string,
  status: number | string,
  seconds: number,
): void {
  apiRequests.inc({ method, route: API_ROUTES[operation], status: String(status) });
  apiDuration.observe({ operation, status_class: statusClass(status) }, seconds);
}

function statusClass(status: number | string): string {
  return typeof status === 'number' && status >= 100 && status < 600
    ? `${Math.floor(status / 100)}xx`
    : 'error';
}

export function countPutBack(wait: 'rate_limit' | 'in_flight' | 'auth' | 'shutdown'): void {
  putBacks.inc({ wait });
}

export type RateLimitCause = '429' | 'budget' | 'low_watermark';

export function countRateLimitWait(cause: RateLimitCause, seconds: number): void {
  rateLimitWaits.inc({ cause });
  if (seconds > 0) rateLimitWaitSeconds.inc({ cause }, seconds);
}

export function countBreakerTrip(reason: string): void {
  breakerTrips.inc({ reason });
}

export function countBreakerWarning(
  type: 'warned' | 'would_trip',
  reason: string,
  mode: string,
): void {
  breakerWarnings.inc({ type, reason, mode });
}

export function countWindowTransition(kind: 'started' | 'ended' | 'skipped'): void {
  windowTransitions.inc({ kind });
}

export type WebhookRejectReason =
  | 'secret_unset'
  | 'body_too_large'
  | 'invalid_signature'
  | 'invalid_json'
  | 'invalid_event'
  | 'ignored'
  | 'expired'
  | 'duplicate'
  | 'redis_unavailable'
  /** The inbox is full of unprocessed events: 503 with Retry-After, nothing stored. */
  | 'inbox_full';

/** A webhook delivery: `accepted` (stored), or why it was not. */
export function countWebhook(result: 'accepted' | WebhookRejectReason): void {
  if (result === 'accepted') webhooksAccepted.inc();
  else webhooksRejected.inc({ reason: result });
}

/** A connection closed as it opened: HTTP_MAX_CONNECTIONS were open. */
export function countRefusedConnection(): void {
  httpConnectionsRefused.inc();
}

/**
 * A stored webhook event processed by the breaker (`unresolved`: no account found; `ambiguous`:
 * several accounts could have sent it, counted for none).
 */
export function countWebhookEvent(result: string): void {
  webhookEvents.inc({ result });
}

/** One failure-webhook POST: what came of it. */
export function countNotification(result: 'delivered' | 'retried' | 'dropped' | 'refused'): void {
  notifications.inc({ result });
}

/** A scrape-time read left out of a scrape (scrape-gauges.ts): an error, or too slow. */
export function countScrapeError(part: string): void {
  scrapeErrors.inc({ part });
}

/** `promise`, or a rejection after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`${what}: no answer within ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

let processMetrics = false;

/** prom-client's default process metrics (`process_*`, `nodejs_*`), once per process. */
export function enableProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

/** The registry in Prometheus's text format, and its content type. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
