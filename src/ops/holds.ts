/** Accounts' holds, read (the `holds` CLI command and GET /v1/holds): who keeps what off. */
import type { Config } from '../config.js';
import { UsageError } from '../errors.js';
import { PROVIDER_ID_RULE, PROVIDER_ID_RULE_TEXT } from '../model.js';
import type { RedisClient as Redis } from '../redis.js';
import { createRedis } from '../redis.js';
import { listHeldAccounts, readHolds, type AccountHolds } from '../store/holds.js';
import { keysFor } from '../store/keys.js';

export type { AccountHolds };

/** The holds of the given accounts, or of every held account (oldest first hold first). */
export async function readAccountHolds(
  redis: Redis,
  prefix: string,
  providerIds: readonly string[],
  limit = 1000,
): Promise<AccountHolds[]> {
  const bad = providerIds.find((id) => !PROVIDER_ID_RULE.test(id));
  if (bad !== undefined) throw new UsageError(`account: "${bad}" ${PROVIDER_ID_RULE_TEXT}`);
  const keys = keysFor(prefix);
  const ids = providerIds.length > 0 ? providerIds : await listHeldAccounts(redis, keys, limit);
  return Promise.all(ids.map((id) => readHolds(redis, keys, id)));
}

/** {@link readAccountHolds} with a connection of its own. */
export async function accountHolds(
  config: Config,
  providerIds: readonly string[],
  limit = 1000,
): Promise<AccountHolds[]> {
  const redis = createRedis(config, { maxRetriesPerRequest: 3 });
  try {
    return await readAccountHolds(redis, config.prefix, providerIds, limit);
  } finally {
    await redis.quit();
  }
}
