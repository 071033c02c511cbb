/** Recorded account statuses (the `status` CLI command). */
import type { Config } from '../config.js';
import { createRedis } from '../redis.js';
import { keysFor } from '../store/keys.js';
import { listStatuses, readStatuses, type AccountStatus } from '../store/status-record.js';

/** Statuses of the given accounts, or the most recently changed ones when none are given. */
export async function accountStatus(
  config: Config,
  providerIds: readonly string[],
  limit = 1000,
): Promise<AccountStatus[]> {
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 3 });
  try {
    const keys = keysFor(config.prefix);
    return providerIds.length > 0
      ? await readStatuses(redis, keys, providerIds)
      : await listStatuses(redis, keys, limit);
  } finally {
    await redis.quit();
  }
}
