/**
 * Accounts' holds, read (the `holds` CLI command and GET /v1/holds): who keeps what off, and
 * whether the account really is off (held-state.ts: a held account whose deactivation failed
 * is still on, with the failure and what to run).
 */
import type { Config } from '../config.js';
import { UsageError } from '../errors.js';
import { ACCOUNT_ID_RULE, ACCOUNT_ID_RULE_TEXT } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { createRedis } from '../redis/connect.js';
import { listHeldAccounts, readHolds, type AccountHolds } from '../store/holds.js';
import { keysFor } from '../store/keys.js';
import { readStatuses } from '../store/status-record.js';
import { heldState, type HeldState } from './held-state.js';

export type { AccountHolds };

/** An account's holds and what it is under them. */
export type HeldAccount = AccountHolds & HeldState;

/** The holds of the given accounts, or of every held account (oldest first hold first). */
export async function readAccountHolds(
  redis: Redis,
  prefix: string,
  accountIds: readonly string[],
  limit = 1000,
): Promise<HeldAccount[]> {
  const bad = accountIds.find((id) => !ACCOUNT_ID_RULE.test(id));
  if (bad !== undefined) throw new UsageError(`account: "${bad}" ${ACCOUNT_ID_RULE_TEXT}`);
  const keys = keysFor(prefix);
  const ids = accountIds.length > 0 ? accountIds : await listHeldAccounts(redis, keys, limit);
  const [holds, statuses] = await Promise.all([
    Promise.all(ids.map((id) => readHolds(redis, keys, id))),
    readStatuses(redis, keys, ids),
  ]);
  const byId = new Map(statuses.map((s) => [s.account_id, s]));
  return holds.map((h) => ({
    ...h,
    ...heldState(h.accountId, h.holds, byId.get(h.accountId)),
  }));
}

/** {@link readAccountHolds} with a connection of its own. */
export async function accountHolds(
  config: Config,
  accountIds: readonly string[],
  limit = 1000,
): Promise<HeldAccount[]> {
  const redis = createRedis(config, { maxRetriesPerRequest: 3 });
  try {
    return await readAccountHolds(redis, config.prefix, accountIds, limit);
  } finally {
    await redis.quit();
  }
}
