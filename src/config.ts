/**
 * Settings: one zod schema over the environment, read once at start.
 *
 * Every setting is written once, in {@link SETTINGS}: its environment variable, its rule and
 * default (a zod schema) and what it means. The `Config` type, the parser and the check that
 * the README's configuration table lists every variable with its default all come from it.
 * A bad value stops the process with a message naming the variable and the rule
 * (see {@link ConfigError}); the CLI maps it to exit code 2.
 *
 * The settings are written by area in src/config/ (rules.ts: the parts they are made of;
 * connection.ts, worker.ts, breaker.ts, process.ts, retention.ts, http.ts, output.ts); this
 * file puts them together, in that order, and holds the loader and the cross-field rules.
 */
import { z } from 'zod';
import { adminTokenConflicts } from './config/admin-tokens.js';
import { BREAKER_SETTINGS } from './config/breaker.js';
import { CONNECTION_SETTINGS } from './config/connection.js';
import { HTTP_SETTINGS } from './config/http.js';
import { OUTPUT_SETTINGS } from './config/output.js';
import { PROCESS_SETTINGS } from './config/process.js';
import { RETENTION_SETTINGS } from './config/retention.js';
import { WORKER_SETTINGS } from './config/worker.js';
import { ConfigError } from './errors.js';

export { LOG_LEVELS } from './config/output.js';
export type { ClusterNode } from './config/rules.js';

/** Every setting, by its name in {@link Config} (the order of the variables in a message). */
export const SETTINGS = {
  ...CONNECTION_SETTINGS,
  ...WORKER_SETTINGS,
  ...BREAKER_SETTINGS,
  ...PROCESS_SETTINGS,
  ...RETENTION_SETTINGS,
  ...HTTP_SETTINGS,
  ...OUTPUT_SETTINGS,
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
  rules.push(...adminTokenConflicts(config));
  if (rules.length > 0) throw new ConfigError(rules);
  return config;
}

/** The worker needs the API key; producers and readers do not. */
export function requireApiKey(config: Config): string {
  if (!config.apiKey) throw new ConfigError(['SENDMUX_API_KEY: is required to run a worker']);
  return config.apiKey;
}
