/**
 * Settings: one zod schema over the environment, read once at start.
 *
 * Every setting has one name (the environment variable), one default and one rule.
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

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The environment schema. Keys are the environment variable names. */
export const envSchema = z.object({
  SENDMUX_API_KEY: z.string().min(1, { error: 'must not be empty' }).optional(),
  SENDMUX_BASE_URL: url(['http:', 'https:'])
    .default('https://app.sendmux.ai/api/v1')
    .transform((v) => v.replace(/\/+$/, '')),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[^:\s]{1,64}$/, { error: 'must be 1..64 characters without ":" or spaces' })
    .regex(/\{[^{}]+\}/, {
      error:
        'must contain a Redis Cluster hash tag such as {sdx} (e.g. "{sdx}" or "{sdx}-prod"), so every key of the deployment lives in one slot',
    })
    .default('{sdx}'),
  SENDMUX_RATE_LIMIT: int(0, 1_000_000).default(540),
  SENDMUX_TIMEOUT_MS: int(100, 600_000).default(10_000),
  WORKER_CONCURRENCY: int(1, 1000).default(10),
  MAX_ATTEMPTS: int(1, 100).default(8),
  BACKOFF_BASE_MS: int(1, 3_600_000).default(1_000),
  BACKOFF_CAP_MS: int(1, 86_400_000).default(60_000),
  RATE_LIMIT_MAX_WAIT_MS: int(1, 3_600_000).default(60_000),
  RATE_LIMIT_MAX_WAITS: int(1, 10_000).default(50),
  RATE_LIMIT_LOW_WATERMARK: int(0, 1_000_000).default(30),
  IN_FLIGHT_MAX_WAITS: int(1, 10_000).default(20),
  AUTH_RETRY_MS: int(100, 3_600_000).default(30_000),
  IDEMPOTENCY_TTL_S: int(86_400, 30 * 86_400).default(86_400),
  EVENTS_MAX_LEN: int(100, 100_000_000).default(100_000),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(25_000),
  WORKER_LOCK_DURATION_MS: int(1_000, 600_000).default(6_000),
  WORKER_STALLED_INTERVAL_MS: int(1_000, 600_000).default(4_000),
  KEEP_COMPLETED_JOBS: int(0, 10_000_000).default(1_000),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info'),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  /** Sendmux root API key. Required to run a worker; never logged. */
  apiKey: string | undefined;
  /** @defaultValue `https://app.sendmux.ai/api/v1` */
  baseUrl: string;
  /** @defaultValue `redis://127.0.0.1:6379` */
  redisUrl: string;
  /** Redis key prefix; a hash tag so every key of one deployment lives in one cluster slot. @defaultValue `{sdx}` */
  prefix: string;
  /** Requests per minute shared by every worker process; 0 = no client-side limit. @defaultValue 540 (90 % of the API's 600) */
  rateLimitPerMinute: number;
  /** @defaultValue 10000 */
  timeoutMs: number;
  /** Jobs one worker process runs at once. @defaultValue 10 */
  concurrency: number;
  /** Attempts per action, including the first. @defaultValue 8 */
  maxAttempts: number;
  /** @defaultValue 1000 */
  backoffBaseMs: number;
  /** @defaultValue 60000 */
  backoffCapMs: number;
  /** Longest single queue pause a 429/Retry-After can cause. @defaultValue 60000 */
  rateLimitMaxWaitMs: number;
  /** How many times one job may be put back by a rate-limit pause before it fails. @defaultValue 50 */
  rateLimitMaxWaits: number;
  /** Pause the queue until the window resets when `X-RateLimit-Remaining` is at or below this. @defaultValue 30 */
  rateLimitLowWatermark: number;
  /** How often one job may wait for its own call still in flight at the API (409) before it fails. @defaultValue 20 */
  inFlightMaxWaits: number;
  /** After a 401/403 the queue pauses this long, then a job tries the key again. @defaultValue 30000 */
  authRetryMs: number;
  /** How long a finished intent's key stays bound to it (at least the API's 24 h). @defaultValue 86400 */
  idempotencyTtlS: number;
  /** Approximate cap of the events stream. @defaultValue 100000 */
  eventsMaxLen: number;
  /** How long SIGTERM waits for in-flight calls. @defaultValue 25000 */
  shutdownTimeoutMs: number;
  /** A crashed worker's jobs are taken over after this (plus the stalled interval). @defaultValue 6000 */
  lockDurationMs: number;
  /** @defaultValue 4000 */
  stalledIntervalMs: number;
  /** Completed jobs kept for inspection (failed jobs are always kept). @defaultValue 1000 */
  keepCompletedJobs: number;
  /** @defaultValue `info` */
  logLevel: (typeof LOG_LEVELS)[number];
}

/** Parse and validate settings from an environment (defaults to `process.env`). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    // An empty variable means "unset" so `FOO= cmd` falls back to the default.
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const rules: string[] = [];
  if (e.BACKOFF_CAP_MS < e.BACKOFF_BASE_MS) {
    rules.push(`BACKOFF_CAP_MS: must be >= BACKOFF_BASE_MS (${e.BACKOFF_BASE_MS})`);
  }
  if (e.SENDMUX_RATE_LIMIT > 0 && e.RATE_LIMIT_LOW_WATERMARK >= e.SENDMUX_RATE_LIMIT) {
    rules.push(
      `RATE_LIMIT_LOW_WATERMARK: must be below SENDMUX_RATE_LIMIT (${e.SENDMUX_RATE_LIMIT}), or the queue would pause after every answer`,
    );
  }
  if (e.SHUTDOWN_TIMEOUT_MS < e.SENDMUX_TIMEOUT_MS) {
    rules.push(
      `SHUTDOWN_TIMEOUT_MS: must be >= SENDMUX_TIMEOUT_MS (${e.SENDMUX_TIMEOUT_MS}), so a call in flight can finish before it is aborted`,
    );
  }
  if (rules.length > 0) throw new ConfigError(rules);
  return {
    apiKey: e.SENDMUX_API_KEY,
    baseUrl: e.SENDMUX_BASE_URL,
    redisUrl: e.REDIS_URL,
    prefix: e.QUEUE_PREFIX,
    rateLimitPerMinute: e.SENDMUX_RATE_LIMIT,
    timeoutMs: e.SENDMUX_TIMEOUT_MS,
    concurrency: e.WORKER_CONCURRENCY,
    maxAttempts: e.MAX_ATTEMPTS,
    backoffBaseMs: e.BACKOFF_BASE_MS,
    backoffCapMs: e.BACKOFF_CAP_MS,
    rateLimitMaxWaitMs: e.RATE_LIMIT_MAX_WAIT_MS,
    rateLimitMaxWaits: e.RATE_LIMIT_MAX_WAITS,
    rateLimitLowWatermark: e.RATE_LIMIT_LOW_WATERMARK,
    inFlightMaxWaits: e.IN_FLIGHT_MAX_WAITS,
    authRetryMs: e.AUTH_RETRY_MS,
    idempotencyTtlS: e.IDEMPOTENCY_TTL_S,
    eventsMaxLen: e.EVENTS_MAX_LEN,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    lockDurationMs: e.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
    keepCompletedJobs: e.KEEP_COMPLETED_JOBS,
    logLevel: e.LOG_LEVEL,
  };
}

/** The worker needs the API key; producers and readers do not. */
export function requireApiKey(config: Config): string {
  if (!config.apiKey) throw new ConfigError(['SENDMUX_API_KEY: is required to run a worker']);
  return config.apiKey;
}
