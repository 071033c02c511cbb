/**
 * Settings: one zod schema over the environment, read once at start.
 *
 * Every setting is written once, in {@link SETTINGS}: its environment variable, its rule and
 * default (a zod schema) and what it means. The `Config` type, the parser and the check that
 * the README's configuration table lists every variable with its default all come from it.
 * A bad value stops the process with a message naming the variable and the rule
 * (see {@link ConfigError}); the CLI maps it to exit code 2.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: 'must be an integer' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be >= ${min}` })
        .max(max, { error: `must be <= ${max}` }),
    );

const url = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      {
        error: `must be a URL with scheme ${protocols.map((p) => p.replace(':', '://')).join(' or ')}`,
      },
    );

/** A number from 0 to 1 (a rate). */
const fraction = () =>
  z
    .string()
    .trim()
    .regex(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, { error: 'must be a number from 0 to 1' })
    .transform(Number);

/** A Redis Cluster seed node. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** `host:port[,host:port...]`: a hostname, IPv4 or [IPv6] address and a port 1..65535. */
const clusterNodes = () =>
  z
    .string()
    .trim()
    .transform((v, ctx): ClusterNode[] => {
      const nodes: ClusterNode[] = [];
      for (const raw of v.split(',')) {
        const entry = raw.trim();
        const m =
          /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?):(\d{1,5})$/.exec(
            entry,
          );
        const port = m ? Number(m[2]) : 0;
        if (!m || port < 1 || port > 65535) {
          ctx.addIssue({
            code: 'custom',
            message: `must be comma-separated host:port seed nodes (e.g. 10.0.0.1:7000,10.0.0.2:7000) with a port 1..65535; ${JSON.stringify(entry.slice(0, 80))} is not`,
          });
          return z.NEVER;
        }
        nodes.push({ host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port });
      }
      return nodes;
    });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

interface Setting<S extends z.ZodType> {
  /** The environment variable. */
  env: string;
  /** Rule and default. */
  schema: S;
  /** What it means (the README's configuration table says the same). */
  doc: string;
}
const setting = <S extends z.ZodType>(env: string, schema: S, doc: string): Setting<S> => ({
  env,
  schema,
  doc,
});

/** Every setting, by its name in {@link Config}. */
export const SETTINGS = {
  apiKey: setting(
    'SENDMUX_API_KEY',
    z.string().min(1, { error: 'must not be empty' }).optional(),
    'Team root API key. Required to run a worker; never logged.',
  ),
  baseUrl: setting(
    'SENDMUX_BASE_URL',
    url(['http:', 'https:'])
      .default('https://app.sendmux.ai/api/v1')
      .transform((v) => v.replace(/\/+$/, '')),
    'API base URL (the simulator prints its own).',
  ),
  redisUrl: setting(
    'REDIS_URL',
    url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
    'Redis for the queue, bindings, statuses and events.',
  ),
  redisClusterNodes: setting(
    'REDIS_CLUSTER_NODES',
    clusterNodes().optional(),
    'Redis Cluster seed nodes, comma-separated host:port (any node of the cluster will do). When set, every connection is a Cluster client and REDIS_URL gives only the credentials (user:password@) and TLS (rediss://); its host is unused. Unset = a single Redis at REDIS_URL.',
  ),
  prefix: setting(
    'QUEUE_PREFIX',
    z
      .string()
      .regex(/^[^:\s]{1,64}$/, { error: 'must be 1..64 characters without ":" or spaces' })
      .regex(/\{[^{}]+\}/, {
        error:
          'must contain a Redis Cluster hash tag such as {sdx} (e.g. "{sdx}" or "{sdx}-prod"), so every key of the deployment lives in one slot',
      })
      .default('{sdx}'),
    'Prefix of every key; its {hash tag} keeps one deployment in one Redis Cluster slot.',
  ),
  rateLimitPerMinute: setting(
    'SENDMUX_RATE_LIMIT',
    int(0, 1_000_000).default(540),
    "Requests per minute shared by every worker process (90 % of the API's 600); 0 = no client-side limit.",
  ),
  timeoutMs: setting(
    'SENDMUX_TIMEOUT_MS',
    int(100, 600_000).default(10_000),
    'Whole-request timeout of one API call.',
  ),
  concurrency: setting(
    'WORKER_CONCURRENCY',
    int(1, 1000).default(10),
    'Jobs one worker process runs at once.',
  ),
  maxAttempts: setting(
    'MAX_ATTEMPTS',
    int(1, 100).default(8),
    'Attempts per intent (the first included) for retryable failures.',
  ),
  backoffBaseMs: setting(
    'BACKOFF_BASE_MS',
    int(1, 3_600_000).default(1_000),
    'Full-jitter backoff: a delay drawn from [0, min(cap, base * 2^(attempt-1))].',
  ),
  backoffCapMs: setting(
    'BACKOFF_CAP_MS',
    int(1, 86_400_000).default(60_000),
    'Upper bound of one backoff delay (>= BACKOFF_BASE_MS).',
  ),
  rateLimitMaxWaitMs: setting(
    'RATE_LIMIT_MAX_WAIT_MS',
    int(1, 3_600_000).default(60_000),
    'Longest queue pause one 429 or a low budget can cause.',
  ),
  rateLimitMaxWaits: setting(
    'RATE_LIMIT_MAX_WAITS',
    int(1, 10_000).default(50),
    'Rate-limit put-backs one intent may take before it fails.',
  ),
  rateLimitLowWatermark: setting(
    'RATE_LIMIT_LOW_WATERMARK',
    int(0, 1_000_000).default(0),
    'Pause every worker until the window resets when X-RateLimit-Remaining is at or below this (< SENDMUX_RATE_LIMIT); 0 = off (the rate budget paces calls through each window already).',
  ),
  rateLimitReserve: setting(
    'RATE_LIMIT_RESERVE',
    z
      .string()
      .trim()
      .regex(/^\d+(\.\d+)?$/, { error: 'must be a number from 0 to 0.5' })
      .transform(Number)
      .pipe(z.number().max(0.5, { error: 'must be a number from 0 to 0.5' }))
      .default(0.02),
    "Share of the API key's limit per window that the workers never use, on top of what other users of the key were seen to use in the last window (X-RateLimit-*).",
  ),
  inFlightMaxWaits: setting(
    'IN_FLIGHT_MAX_WAITS',
    int(1, 10_000).default(20),
    'Times one intent waits for its own call still in flight at the API (409 idempotency_conflict) before the account is read.',
  ),
  authRetryMs: setting(
    'AUTH_RETRY_MS',
    int(100, 3_600_000).default(30_000),
    'After a 401/403, every worker pauses this long, then a job tries the key again (the backlog waits, it does not fail).',
  ),
  idempotencyTtlS: setting(
    'IDEMPOTENCY_TTL_S',
    int(86_400, 30 * 86_400).default(86_400),
    "How long a finished intent's key stays bound to it (at least the API's 24 h; a queued one never expires).",
  ),
  eventsMaxLen: setting(
    'EVENTS_MAX_LEN',
    int(100, 100_000_000).default(100_000),
    'Approximate cap of the events stream (XADD MAXLEN ~).',
  ),
  breakerWindowS: setting(
    'BREAKER_WINDOW_S',
    int(60, 86_400).default(900),
    "The breaker's sliding window: its rules read the signals of this many seconds (whole minutes).",
  ),
  breakerBounceRate: setting(
    'BREAKER_BOUNCE_RATE',
    fraction().default(0.05),
    'Trip when hard (Permanent) bounces / (delivered + bounced) over the window reaches this (0..1)...',
  ),
  breakerBounceMinVolume: setting(
    'BREAKER_BOUNCE_MIN_VOLUME',
    int(1, 100_000_000).default(100),
    '...with at least this many delivered + bounced in the window.',
  ),
  breakerComplaintRate: setting(
    'BREAKER_COMPLAINT_RATE',
    fraction().default(0.001),
    'Trip when complaints / delivered over the window reaches this (0..1)...',
  ),
  breakerComplaintMinVolume: setting(
    'BREAKER_COMPLAINT_MIN_VOLUME',
    int(1, 100_000_000).default(1_000),
    '...with at least this many delivered in the window.',
  ),
  breakerAccountRules: setting(
    'BREAKER_ACCOUNT_RULES',
    z.string().trim().default('{}'),
    'Per-account rules as JSON: {"dprov_...": {"bounce_rate": 0.1, "bounce_min_volume": 50, "complaint_rate": ..., "complaint_min_volume": ..., "window_s": ...}}; unset fields take the global ones.',
  ),
  breakerCooldownS: setting(
    'BREAKER_COOLDOWN_S',
    int(0, 30 * 86_400).default(0),
    'After a trip, go half-open by itself after this long (the account asked back on, then watched); 0 = stay open until `breaker reset`.',
  ),
  breakerCooldownMaxS: setting(
    'BREAKER_COOLDOWN_MAX_S',
    int(1, 30 * 86_400).default(86_400),
    'A trip while half-open doubles the cooldown, up to this.',
  ),
  breakerHalfOpenWatchS: setting(
    'BREAKER_HALF_OPEN_WATCH_S',
    int(1, 30 * 86_400).default(900),
    'A half-open breaker closes after this long without a trip (the next trip starts from BREAKER_COOLDOWN_S again).',
  ),
  breakerSenderMap: setting(
    'BREAKER_SENDER_MAP',
    z.string().trim().default('{}'),
    'Which account sent a webhook\'s message, first in the chain: JSON {"news@example.com": "dprov_...", "example.org": "dprov_..."} (an address, or a domain for all its addresses).',
  ),
  breakerAccountsRefreshS: setting(
    'BREAKER_ACCOUNTS_REFRESH_S',
    int(10, 86_400).default(300),
    "How often the server reads the accounts' from_email again (the second link of the chain; one listing through the rate budget).",
  ),
  signalDedupeTtlS: setting(
    'SIGNAL_DEDUPE_TTL_S',
    int(3_600, 30 * 86_400).default(172_800),
    'How long a counted signal id (webhook event id) is remembered: a retried delivery within it is counted once.',
  ),
  windowConcurrency: setting(
    'WINDOW_CONCURRENCY',
    int(0, 100).default(2),
    "Maintenance-window steps (an occurrence's start or end) one `worker` process runs at once; 0 = this process runs none (another must).",
  ),
  shutdownTimeoutMs: setting(
    'SHUTDOWN_TIMEOUT_MS',
    int(0, 600_000).default(25_000),
    'How long SIGTERM waits for in-flight calls before aborting them (>= SENDMUX_TIMEOUT_MS); the process stops within it whatever Redis does.',
  ),
  lockDurationMs: setting(
    'WORKER_LOCK_DURATION_MS',
    int(1_000, 600_000).default(6_000),
    "BullMQ job lock: a crashed worker's jobs are taken over after it expires (plus the stalled interval).",
  ),
  stalledIntervalMs: setting(
    'WORKER_STALLED_INTERVAL_MS',
    int(1_000, 600_000).default(4_000),
    'How often workers look for stalled jobs.',
  ),
  keepCompletedJobs: setting(
    'KEEP_COMPLETED_JOBS',
    int(0, 10_000_000).default(1_000),
    'Completed jobs kept in BullMQ.',
  ),
  failedJobRetentionS: setting(
    'FAILED_JOB_RETENTION_S',
    int(1, 10 * 365 * 86_400).default(7 * 86_400),
    "How long failed action jobs are kept in BullMQ (removeOnFail's age, applied as jobs fail); the outcome lives on in the binding and the `action.failed` event.",
  ),
  keepFailedJobs: setting(
    'KEEP_FAILED_JOBS',
    int(0, 10_000_000).default(100_000),
    "At most this many failed action jobs are kept in BullMQ, the newest (removeOnFail's count).",
  ),
  accountRecordTtlS: setting(
    'ACCOUNT_RECORD_TTL_S',
    int(1, 10 * 365 * 86_400).default(30 * 86_400),
    "An account's status and order records are removed once it has been idle this long: no hold, no intent queued or running, no outcome recorded meanwhile (the retention sweep).",
  ),
  batchRecordTtlS: setting(
    'BATCH_RECORD_TTL_S',
    int(1, 10 * 365 * 86_400).default(30 * 86_400),
    "A bulk run's record and accounts are removed this long after it finished (never while it runs or waits for a resume).",
  ),
  breakerRecordTtlS: setting(
    'BREAKER_RECORD_TTL_S',
    int(1, 10 * 365 * 86_400).default(30 * 86_400),
    "A closed breaker's record and breaker-index entry are removed once no signal came for the account this long.",
  ),
  windowOccurrencesKeep: setting(
    'WINDOW_OCCURRENCES_KEEP',
    int(1, 1_000_000).default(100),
    'Occurrences kept per maintenance window, the newest (`window show` lists 20); older ended or skipped ones are removed.',
  ),
  retentionSweepS: setting(
    'RETENTION_SWEEP_S',
    int(1, 86_400).default(300),
    'How often a worker runs the retention sweep (one worker at a time) that removes the records above once their retention has passed.',
  ),
  port: setting(
    'PORT',
    int(0, 65_535).default(8080),
    'Port of the HTTP server (`serve`; `--port` overrides it).',
  ),
  httpHeadersTimeoutMs: setting(
    'HTTP_HEADERS_TIMEOUT_MS',
    int(1_000, 600_000).default(10_000),
    "A client must send a request's headers within this long of starting it, or its connection is closed (a slow client holds no connection longer).",
  ),
  httpRequestTimeoutMs: setting(
    'HTTP_REQUEST_TIMEOUT_MS',
    int(1_000, 600_000).default(15_000),
    'A client must send a whole request (headers and body) within this long, or it is answered 408 and its connection closed (>= HTTP_HEADERS_TIMEOUT_MS). It bounds uploads too: a 32 MiB POST /v1/batches upload in 15 s needs ~2.2 MB/s; raise it for slow links (a buffering reverse proxy sends at its own speed).',
  ),
  httpKeepAliveTimeoutMs: setting(
    'HTTP_KEEP_ALIVE_TIMEOUT_MS',
    int(1_000, 600_000).default(5_000),
    "An idle keep-alive connection is closed after this long without a new request; a reverse proxy that keeps upstream connections open must close them sooner (nginx's upstream `keepalive_timeout` below it).",
  ),
  httpMaxConnections: setting(
    'HTTP_MAX_CONNECTIONS',
    int(1, 1_000_000).default(1_024),
    'Open connections the HTTP server holds at once; one more is closed as soon as it opens (the open ones keep working).',
  ),
  actionsTimeoutMs: setting(
    'HTTP_ACTIONS_TIMEOUT_MS',
    int(1_000, 600_000).default(30_000),
    'POST /v1/actions answers 503 (`redis_unavailable`) when it could not finish within this long (Redis unreachable or frozen); what was enqueued stays enqueued.',
  ),
  adminToken: setting(
    'ADMIN_TOKEN',
    z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
    "Token of the admin routes: every route but /healthz, /readyz, /openapi.json and POST /webhooks/sendmux, on `serve`, `start` and a worker's metrics server (`Authorization: Bearer <token>`, or Basic with the token as the password for the status page in a browser); unset = they answer 503 `invalid_config`. Never logged.",
  ),
  webhookSecret: setting(
    'SENDMUX_WEBHOOK_SECRET',
    z.string().min(1, { error: 'must not be empty' }).optional(),
    'Signing secret of the Sendmux webhook subscription (X-Sendmux-Signature); unset = POST /webhooks/sendmux answers 503 `invalid_config`. Never logged.',
  ),
  webhookBodyLimitBytes: setting(
    'WEBHOOK_BODY_LIMIT_BYTES',
    int(1_024, 16 * 1_048_576).default(262_144),
    'Largest webhook body accepted; a larger one is answered 413.',
  ),
  webhookClockSkewS: setting(
    'WEBHOOK_CLOCK_SKEW_S',
    int(0, 3_600).default(300),
    "A webhook whose occurred_at is further in the future than this (Sendmux's clock ahead of ours) is refused 400.",
  ),
  webhookRedisTimeoutMs: setting(
    'WEBHOOK_REDIS_TIMEOUT_MS',
    int(100, 9_000).default(2_000),
    "The webhook receiver answers 503 with Retry-After (Sendmux retries) when Redis is not connected, or has not stored a delivery within this long (below Sendmux's 10 s delivery timeout).",
  ),
  webhookDedupeTtlS: setting(
    'WEBHOOK_DEDUPE_TTL_S',
    int(172_800, 30 * 86_400).default(172_800),
    "How long a webhook event id is remembered (a retried delivery is stored once; at least 48 h, twice Sendmux's 24 h of retries); older events are refused as replays.",
  ),
  webhookInboxMaxLen: setting(
    'WEBHOOK_INBOX_MAXLEN',
    int(100, 100_000_000).default(100_000),
    'Most entries the webhook inbox holds, processed ones included: processed entries are trimmed oldest first, an unprocessed one never; full of unprocessed entries, POST /webhooks/sendmux answers 503 with Retry-After.',
  ),
  webhookInboxBacklogMax: setting(
    'WEBHOOK_INBOX_BACKLOG_MAX',
    int(1, 100_000_000).optional(),
    'Most unprocessed webhook events (pending + not yet read by the breaker); past it POST /webhooks/sendmux answers 503 with Retry-After and stores nothing. Unset = WEBHOOK_INBOX_MAXLEN; at most WEBHOOK_INBOX_MAXLEN.',
  ),
  webhookInboxMaxBytes: setting(
    'WEBHOOK_INBOX_MAX_BYTES',
    int(1_024, 64 * 1_073_741_824).default(268_435_456),
    'Most bytes of webhook bodies the inbox holds (processed ones trimmed first, as for WEBHOOK_INBOX_MAXLEN); past it POST /webhooks/sendmux answers 503 with Retry-After. At least WEBHOOK_BODY_LIMIT_BYTES.',
  ),
  readyStuckMs: setting(
    'READY_STUCK_MS',
    int(1_000, 86_400_000).default(300_000),
    '/readyz answers 503 when a job has been ready to run this long while none runs (no worker takes jobs).',
  ),
  metricsPort: setting(
    'WORKER_METRICS_PORT',
    int(0, 65_535).optional(),
    '`worker` serves /metrics, /healthz and /readyz on this port; unset = it serves none (`serve` and `start` serve them on PORT).',
  ),
  notifyUrl: setting(
    'NOTIFY_URL',
    url(['http:', 'https:']).optional(),
    'Failure webhooks: action.failed, breaker.tripped and window events are POSTed here as CloudEvents 1.0 JSON, from a queue with retries; unset = off.',
  ),
  notifySecret: setting(
    'NOTIFY_SECRET',
    z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
    "HMAC-SHA256 key of the failure webhooks' X-Sendmux-Signature (sha256=<hex> of the raw body); required with NOTIFY_URL. Never logged.",
  ),
  notifyMaxAttempts: setting(
    'NOTIFY_MAX_ATTEMPTS',
    int(1, 1_000).default(15),
    'Attempts per failure webhook (exponential backoff from 1 s, capped at 10 min) before it is dropped as failed.',
  ),
  notifyTimeoutMs: setting(
    'NOTIFY_TIMEOUT_MS',
    int(100, 60_000).default(5_000),
    'Timeout of one failure-webhook POST.',
  ),
  logLevel: setting(
    'LOG_LEVEL',
    z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    'pino log level.',
  ),
} as const;

/** Validated settings, one field per entry of {@link SETTINGS}. */
export type Config = { [K in keyof typeof SETTINGS]: z.output<(typeof SETTINGS)[K]['schema']> };

const envSchema = z.object(
  Object.fromEntries(Object.values(SETTINGS).map((s) => [s.env, s.schema])),
);

/** Parse and validate settings from an environment (defaults to `process.env`). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = {};
  for (const { env: name } of Object.values(SETTINGS)) {
    const value = env[name];
    // An empty variable means "unset" so `FOO= cmd` falls back to the default.
    if (value !== undefined && value !== '') picked[name] = value;
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`),
    );
  }
  const values = parsed.data as Record<string, unknown>;
  const config = Object.fromEntries(
    Object.entries(SETTINGS).map(([key, s]) => [key, values[s.env]]),
  ) as Config;
  const rules: string[] = [];
  if (config.backoffCapMs < config.backoffBaseMs) {
    rules.push(`BACKOFF_CAP_MS: must be >= BACKOFF_BASE_MS (${config.backoffBaseMs})`);
  }
  if (config.rateLimitPerMinute > 0 && config.rateLimitLowWatermark >= config.rateLimitPerMinute) {
    rules.push(
      `RATE_LIMIT_LOW_WATERMARK: must be below SENDMUX_RATE_LIMIT (${config.rateLimitPerMinute}), or the queue would pause after every answer`,
    );
  }
  if (config.shutdownTimeoutMs < config.timeoutMs) {
    rules.push(
      `SHUTDOWN_TIMEOUT_MS: must be >= SENDMUX_TIMEOUT_MS (${config.timeoutMs}), so a call in flight can finish before it is aborted`,
    );
  }
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    rules.push(
      `HTTP_HEADERS_TIMEOUT_MS: must be <= HTTP_REQUEST_TIMEOUT_MS (${config.httpRequestTimeoutMs}), the time for the whole request`,
    );
  }
  if (
    config.webhookInboxBacklogMax !== undefined &&
    config.webhookInboxBacklogMax > config.webhookInboxMaxLen
  ) {
    rules.push(
      `WEBHOOK_INBOX_BACKLOG_MAX: must be <= WEBHOOK_INBOX_MAXLEN (${config.webhookInboxMaxLen}), the entries the inbox holds in all`,
    );
  }
  if (config.webhookInboxMaxBytes < config.webhookBodyLimitBytes) {
    rules.push(
      `WEBHOOK_INBOX_MAX_BYTES: must be >= WEBHOOK_BODY_LIMIT_BYTES (${config.webhookBodyLimitBytes}), or a webhook of the largest size could never be stored`,
    );
  }
  if (config.notifyUrl !== undefined && config.notifySecret === undefined) {
    rules.push(
      'NOTIFY_SECRET: is required when NOTIFY_URL is set (every failure webhook is signed)',
    );
  }
  if (rules.length > 0) throw new ConfigError(rules);
  return config;
}

/** The worker needs the API key; producers and readers do not. */
export function requireApiKey(config: Config): string {
  if (!config.apiKey) throw new ConfigError(['SENDMUX_API_KEY: is required to run a worker']);
  return config.apiKey;
}
