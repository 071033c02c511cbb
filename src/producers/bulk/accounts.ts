/**
 * What a bulk run asks the API about accounts: listings (`--filter`), the shared account to
 * keep out, and, for a dry run, each account's state. Every page read spends the shared rate
 * budget first (store/spend-budget.ts), like an action would.
 */
import { UsageError } from '../../errors.js';
import type { Action } from '../../model.js';
import type { RedisClient as Redis } from '../../redis/connect.js';
import type { ListFilter, SendmuxClient } from '../../sendmux/client.js';
import {
  PROVIDER_STATUSES,
  PROVIDER_TYPES,
  type ProviderItem,
  type ProviderStatus,
  type ProviderType,
} from '../../sendmux/schemas.js';
import type { Keys } from '../../store/keys.js';
import { spendBudget, type Budget } from '../../store/spend-budget.js';

export interface AccountLister {
  list(filter: ListFilter, signal?: AbortSignal): AsyncIterable<ProviderItem>;
}

/** A lister whose every page waits for, and takes, one call of the shared rate budget. */
export function budgetedLister(deps: {
  client: SendmuxClient;
  redis: Redis;
  keys: Keys;
  budget: Budget;
}): AccountLister {
  return {
    list: (filter, signal) =>
      deps.client.listProviders(filter, {
        signal,
        beforeRequest: () => spendBudget(deps.redis, deps.keys, deps.budget, signal),
      }),
  };
}

/** The team's shared sending account (Sendmux's own Amazon SES): never switched off by default. */
export function isShared(item: Pick<ProviderItem, 'is_shared' | 'type'>): boolean {
  return item.is_shared || item.type === 'amazon_ses';
}

/** Ids of the shared accounts (one short listing: the Amazon SES accounts). */
export async function sharedAccountIds(
  lister: AccountLister,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const item of lister.list({ type: 'amazon_ses' }, signal)) {
    if (isShared(item)) ids.add(item.id);
  }
  return ids;
}

/**
 * `--filter status=active,type=smtp`: the listing filter, or a UsageError naming the field and
 * the rule.
 */
export function parseFilter(text: string): ListFilter {
  const filter: ListFilter = {};
  for (const part of text.split(',')) {
    const [rawName, ...rest] = part.split('=');
    const name = (rawName ?? '').trim();
    const value = rest.join('=').trim();
    if (name === '' && value === '') continue;
    if (name === 'status') {
      if (!(PROVIDER_STATUSES as readonly string[]).includes(value)) {
        throw new UsageError(
          `--filter status: must be one of ${PROVIDER_STATUSES.join(', ')} (got "${value}")`,
        );
      }
      filter.status = value as ProviderStatus;
    } else if (name === 'type') {
      if (!(PROVIDER_TYPES as readonly string[]).includes(value)) {
        throw new UsageError(
          `--filter type: must be one of ${PROVIDER_TYPES.join(', ')} (got "${value}")`,
        );
      }
      filter.type = value as ProviderType;
    } else {
      throw new UsageError(
        `--filter: "${name}" is not a field to filter on (use status=... and/or type=..., comma-separated)`,
      );
    }
  }
  if (filter.status === undefined && filter.type === undefined) {
    throw new UsageError(
      '--filter: give status=... and/or type=... (e.g. status=active,type=smtp)',
    );
  }
  return filter;
}

/** What a dry run says about one account, from the API's view of it. */
export type DryRunVerdict = 'would_enqueue' | 'already' | 'not_allowed' | 'shared' | 'unknown';

/** The verdict for an account (`undefined`: the team has no such account). */
export function verdictOf(
  action: Action,
  item: Pick<ProviderItem, 'status' | 'is_shared' | 'type' | 'allowed_actions'> | undefined,
  includeShared: boolean,
): DryRunVerdict {
  if (!item) return 'unknown';
  if (!includeShared && isShared(item)) return 'shared';
  if (item.status === (action === 'deactivate' ? 'inactive' : 'active')) return 'already';
  if (!item.allowed_actions[action]) return 'not_allowed';
  return 'would_enqueue';
}
