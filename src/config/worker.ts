/**
 * Settings of the worker's runs (put together in ../config.ts): concurrency, attempts and
 * backoff, rate-limit waits and the budget's reserve, in-flight waits, the pause after an auth
 * failure, how long idempotency keys stay bound, the events stream's cap.
 */
import { z } from 'zod';
import { int, setting } from './rules.js';

export const WORKER_SETTINGS = {
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
} as const;
