/** What the retry-policy tests (test/unit/policy*.test.ts) decide with: settings, counters, answers. */
import { SendmuxError } from '../../src/sendmux/errors.js';
import type { Answer, Counters, PolicySettings } from '../../src/worker/policy.js';

export const settings: PolicySettings = {
  maxAttempts: 3,
  backoffBaseMs: 100,
  backoffCapMs: 1_000,
  rateLimitMaxWaits: 5,
  rateLimitMaxWaitMs: 60_000,
  inFlightMaxWaits: 4,
  authRetryMs: 30_000,
};
const noWaits = { rate_limit: 0, in_flight: 0, auth: 0, shutdown: 0 };

/** The counters of a run at `attempt`, with these waits so far. */
export const at = (attempt: number, waits: Partial<Counters['waits']> = {}): Counters => ({
  attempt,
  waits: { ...noWaits, ...waits },
});

/** An error answer from the API (or none: `status` null). */
export const apiError = (
  status: number | null,
  code: string,
  extra: { apiRetryable?: boolean; retryAfterMs?: number } = {},
): Answer => ({
  kind: 'error',
  error: new SendmuxError({ status, code, message: `${status ?? '-'} ${code}`, ...extra }),
});
