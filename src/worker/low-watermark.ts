/**
 * After a call: when the API key's window is nearly used up (RATE_LIMIT_LOW_WATERMARK, off by
 * default), pause the queue until the window resets.
 */
import { countRateLimitWait } from '../metrics/metrics.js';
import type { RateLimitInfo } from '../sendmux/rate-limit-headers.js';
import { pauseQueue } from '../store/pause-queue.js';
import { budgetPause } from './policy.js';
import type { ProcessorDeps } from './processor-types.js';

export async function slowDownIfLow(
  deps: Pick<ProcessorDeps, 'redis' | 'keys' | 'config' | 'log'>,
  now: () => Date,
  rateLimit: RateLimitInfo | undefined,
): Promise<void> {
  const { redis, keys, config, log } = deps;
  const pause = budgetPause(
    rateLimit,
    now().getTime(),
    config.rateLimitLowWatermark,
    config.rateLimitMaxWaitMs,
  );
  if (pause > 0) {
    const paused = await pauseQueue(redis, keys, pause);
    countRateLimitWait('low_watermark', paused / 1000);
    log.info(
      { remaining: rateLimit?.remaining, pause_ms: paused },
      'rate budget running low: pausing the queue until reset',
    );
  }
}
