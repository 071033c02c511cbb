/** Recorded account statuses (the `status` CLI command). */
import type { Config } from '../config.js';
import { IntentValidationError } from '../errors.js';
import { PROVIDER_ID_RULE, PROVIDER_ID_RULE_TEXT } from '../model.js';
import { createRedis } from '../redis.js';
import { keysFor } from '../store/keys.js';
import { listStatuses, readStatuses, type AccountStatus } from '../store/status-record.js';

/** Statuses of the given accounts, or the most recently changed ones when none are given. */
export async function accountStatus(
  config: Config,
  providerIds: readonly string[],
  limit = 1000,
): Promise<AccountStatus[]> {
  const bad = providerIds.filter((id) => !PROVIDER_ID_RULE.test(id));
  if (bad.length > 0) {
    throw new IntentValidationError(
      bad.map((id) => `provider_id ${PROVIDER_ID_RULE_TEXT} (got "${id}")`),
    );
  }
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
