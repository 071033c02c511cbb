/**
 * Settings of what the process sends out (put together in ../config.ts): the failure webhooks
 * (NOTIFY_*) and the log level.
 */
import { z } from 'zod';
import { int, url, setting } from './rules.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const OUTPUT_SETTINGS = {
  notifyUrl: setting(
    'NOTIFY_URL',
    url(['http:', 'https:']).optional(),
    'Failure webhooks: action.failed, breaker.tripped, breaker.warned and breaker.would_trip (not while watching) and window events are POSTed here as CloudEvents 1.0 JSON, from a queue with retries; unset = off.',
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
