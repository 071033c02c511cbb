/** Recorded account statuses (the `status` CLI command). */
import type { Config } from '../config.js';
import { UsageError } from '../errors.js';
import { ACCOUNT_ID_RULE, ACCOUNT_ID_RULE_TEXT } from '../model.js';
import type { Hold } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { createRedis } from '../redis/connect.js';
import { readHolds, type BeforeState } from '../store/holds.js';
import { keysFor, type Keys } from '../store/keys.js';
import { listStatuses, readStatuses, type AccountStatus } from '../store/status-record.js';
import { heldState, type HeldState } from './held-state.js';

/** Statuses of the given accounts, or the most recently changed ones when none are given. */
export async function accountStatus(
  config: Config,
  accountIds: readonly string[],
  limit = 1000,
): Promise<AccountStatus[]> {
  const bad = accountIds.find((id) => !ACCOUNT_ID_RULE.test(id));
  if (bad !== undefined) throw new UsageError(`account: "${bad}" ${ACCOUNT_ID_RULE_TEXT}`);
  const redis = createRedis(config, { maxRetriesPerRequest: 3 });
  try {
    const keys = keysFor(config.prefix);
    return accountIds.length > 0
      ? await readStatuses(redis, keys, accountIds)
      : await listStatuses(redis, keys, limit);
  } finally {
    await redis.quit();
  }
}

/**
 * The accounts' recorded statuses with their holds (`status --json`): the given accounts that
 * have a recorded status, or the most recently changed ones when none are given.
 */
export async function accountStatusWithHolds(
  config: Config,
  accountIds: readonly string[],
  limit = 1000,
): Promise<AccountWithHolds[]> {
  const recorded = await accountStatus(config, accountIds, limit);
  const redis = createRedis(config, { maxRetriesPerRequest: 3 });
  try {
    const ids = recorded.map((s) => s.account_id);
    return (await accountsWithHolds(redis, keysFor(config.prefix), ids)).accounts;
  } finally {
    await redis.quit();
  }
}

/** An account's recorded status with what keeps it off, and whether it really is off. */
export interface AccountWithHolds extends AccountStatus, HeldState {
  holds: Hold[];
  /** What it was before its first hold (null when not held). */
  held_before: BeforeState | null;
  /** When its first current hold was taken (null when not held). */
  held_since: string | null;
}

/** An account with nothing recorded yet (held before any outcome, or never acted on). */
function unrecorded(accountId: string): AccountStatus {
  return {
    account_id: accountId,
    status: null,
    is_active: null,
    status_reason: null,
    updated_at: null,
    request_id: null,
    last_action: null,
    last_outcome: null,
    idempotency_key: null,
    source: null,
    source_ref: null,
    reason: null,
    recorded_at: null,
    last_error: null,
  };
}

/**
 * The accounts' statuses (nulls where nothing is recorded) with their holds, in the order
 * given (GET /v1/accounts and the status page). `unrecorded` counts those with no status.
 */
export async function accountsWithHolds(
  redis: Redis,
  keys: Keys,
  accountIds: readonly string[],
): Promise<{ accounts: AccountWithHolds[]; unrecorded: number }> {
  const [statuses, holds] = await Promise.all([
    readStatuses(redis, keys, accountIds),
    Promise.all(accountIds.map((id) => readHolds(redis, keys, id))),
  ]);
  const byId = new Map(statuses.map((s) => [s.account_id, s]));
  const accounts = accountIds.map((id, i) => {
    const h = holds[i];
    const held = h !== undefined && h.holds.length > 0;
    const status = byId.get(id);
    return {
      ...(status ?? unrecorded(id)),
      holds: h?.holds ?? [],
      held_before: held ? h.before : null,
      held_since: held ? h.since : null,
      ...heldState(id, h?.holds ?? [], status),
    };
  });
  return { accounts, unrecorded: accountIds.length - statuses.length };
}
