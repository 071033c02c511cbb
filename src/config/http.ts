/**
 * Settings of the HTTP servers (put together in ../config.ts): port and connection limits,
 * POST /v1/actions' timeout, the admin tokens, the webhook receiver and its inbox, /readyz, and a
 * worker's metrics port.
 */
import { z } from 'zod';
import { adminTokensRule, TOKEN_MIN_LENGTH, TOKEN_RULE_TEXT } from './admin-tokens.js';
import { int, setting } from './rules.js';

export const HTTP_SETTINGS = {
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
    z.string().min(TOKEN_MIN_LENGTH, { error: TOKEN_RULE_TEXT }).optional(),
    "Token of the admin routes: every route but /healthz, /readyz, /openapi.json and POST /webhooks/sendmux, on `serve`, `start` and a worker's metrics server (`Authorization: Bearer <token>`, or Basic with the token as the password for the status page in a browser); its name is `admin` (ADMIN_TOKENS names more); unset, with no ADMIN_TOKENS = they answer 503 `invalid_config`. Never logged.",
  ),
  adminTokens: setting(
    'ADMIN_TOKENS',
    adminTokensRule().optional(),
    'More admin tokens, each with a name: `name:token[:kind],...`; kind `admin` (the default) may do everything, `read` (a viewer) only GET and HEAD (anything else answers 403 `forbidden`). The name (1..100 visible characters, no `:` or `,`) is who did what a request does (events, holds, batches); a token >= 16 characters without `:` or `,`; no name or token twice, nor the name `admin` or the token of ADMIN_TOKEN. Both may be set. Never logged.',
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
} as const;
