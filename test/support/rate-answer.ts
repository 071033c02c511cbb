/**
 * Report an API answer to the rate budget, with its X-RateLimit-* headers when given: the
 * outcome itself is refused (no such job, a wrong token), the window is learned all the same.
 */
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import type { RateLimitInfo } from '../../src/sendmux/rate-limit-headers.js';
import type { Keys } from '../../src/store/keys.js';
import { recordOutcome } from '../../src/store/record-outcome.js';

export function reportAnswer(redis: Redis, keys: Keys, rateLimit?: RateLimitInfo) {
  return recordOutcome(
    redis,
    keys,
    { idempotencyTtlS: 86_400, eventsMaxLen: 1000 },
    {
      intent: {
        action: 'deactivate',
        accountId: 'dprov_x',
        idempotencyKey: 'nobody',
        source: 'manual',
        reason: '',
      },
      seq: 1,
      jobId: 'k-nobody@1',
      attempts: 1,
      at: new Date(),
      outcome: 'failed',
      httpStatus: 500,
      errorCode: 'internal_error',
      errorMessage: 'x',
      requestId: null,
      ...(rateLimit ? { rateLimit } : {}),
    },
    'no-such-token',
  );
}
