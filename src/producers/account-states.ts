/**
 * What accounts are now, as the API says: the state a hold records as "before" (an account is
 * switched back on when its last hold goes only if it was on before the first). Every read
 * spends the shared rate budget first, like an action.
 *
 * A few accounts are read one by one (`GET /providers/{id}`); many are read from the listing
 * (`GET /providers`, 100 per page), which costs one call per hundred accounts of the team.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { SendmuxClient } from '../sendmux/client.js';
import { SendmuxError } from '../sendmux/errors.js';
import type { ProviderItem } from '../sendmux/schemas.js';
import type { BeforeState } from '../store/holds.js';
import type { Keys } from '../store/keys.js';
import { spendBudget, type Budget } from '../store/spend-budget.js';
import { backoffDelay } from '../worker/backoff.js';

/** Reads the API through the rate budget. */
export interface AccountReader {
  /** One account; undefined when the team has no such account (404). */
  get(accountId: string, signal?: AbortSignal): Promise<ProviderItem | undefined>;
  /** Every account of the team, page by page. */
  list(signal?: AbortSignal): AsyncIterable<ProviderItem>;
}

/** A reader whose every GET first waits for, and takes, one call of the shared rate budget. */
export function budgetedReader(deps: {
  client: SendmuxClient;
  redis: Redis;
  keys: Keys;
  budget: Budget;
}): AccountReader {
  const spend = (signal?: AbortSignal) => spendBudget(deps.redis, deps.keys, deps.budget, signal);
  return {
    async get(accountId, signal) {
      await spend(signal);
      try {
        return (await deps.client.getProvider(accountId, { signal })).data;
      } catch (err) {
        if (err instanceof SendmuxError && err.status === 404) return undefined;
        throw err;
      }
    },
    list: (signal) => deps.client.listProviders({}, { signal, beforeRequest: () => spend(signal) }),
  };
}

/**
 * `active` for an account that sends (or would, once connected: `pending`), `inactive` for one
 * that is off or broken (`inactive`, `error`), `unknown` for one the API does not know.
 */
export function beforeStateOf(item: Pick<ProviderItem, 'status'> | undefined): BeforeState {
  if (!item) return 'unknown';
  if (item.status === 'active' || item.status === 'pending') return 'active';
  return 'inactive';
}

/**
 * Up to this many accounts are read one by one; more are read from the listing. One by one
 * costs a call per account, at most this many whatever the team's size; the listing costs a
 * call per hundred accounts of the whole team, which for a large team is the dearer of the two
 * below a hundred accounts (and for a small team the cheaper: it is not known in advance).
 */
export const READ_ONE_BY_ONE = 100;

/**
 * Each account's current item (undefined: not found), read one by one or from the listing,
 * whichever takes fewer calls for this many accounts.
 */
export async function readAccounts(
  reader: AccountReader,
  accountIds: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, ProviderItem | undefined>> {
  const out = new Map<string, ProviderItem | undefined>();
  const wanted = new Set(accountIds);
  if (wanted.size <= READ_ONE_BY_ONE) {
    for (const id of wanted) out.set(id, await reader.get(id, signal));
    return out;
  }
  for await (const item of reader.list(signal)) if (wanted.has(item.id)) out.set(item.id, item);
  for (const id of wanted) if (!out.has(id)) out.set(id, undefined);
  return out;
}

/** What one read of a target said: its item, a 404, or no answer worth trusting. */
export type TargetItem =
  | { accountId: string; read: 'seen'; item: ProviderItem }
  | { accountId: string; read: 'missing' }
  | { accountId: string; read: 'unreadable'; error: string };

export interface RetryOptions {
  /** Reads per account before it counts as unreadable. @defaultValue 4 */
  attempts?: number;
  /** First wait between two reads (doubled each time, full jitter). @defaultValue 250 */
  baseMs?: number;
  /** Longest wait between two reads. @defaultValue 4_000 */
  capMs?: number;
  signal?: AbortSignal;
}

/**
 * `attempt`, tried again with full-jitter backoff (worker/backoff.ts, never sooner than the
 * API's Retry-After) while it fails with an error worth retrying (5xx, timeouts, resets, 429);
 * throws the last error after `attempts` tries, or at once for one that is not.
 */
async function withRetry<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const settings = { baseMs: options.baseMs ?? 250, capMs: options.capMs ?? 4_000 };
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      options.signal?.throwIfAborted();
      const retryable = !(err instanceof SendmuxError) || err.retryable;
      if (!retryable || n >= attempts) throw err;
      const retryAfter = err instanceof SendmuxError ? (err.retryAfterMs ?? 0) : 0;
      await sleep(backoffDelay(n, settings, Math.min(settings.capMs, retryAfter)), undefined, {
        signal: options.signal,
      });
    }
  }
}

/**
 * Each account read one by one (each read through the rate budget), a failed read retried
 * ({@link withRetry}); one account that stays unreadable does not stop the others. A 404 is
 * `missing`.
 */
export async function readEachWithRetry(
  reader: AccountReader,
  accountIds: readonly string[],
  options: RetryOptions = {},
): Promise<TargetItem[]> {
  const out: TargetItem[] = [];
  for (const accountId of new Set(accountIds)) {
    try {
      const item = await withRetry(() => reader.get(accountId, options.signal), options);
      out.push(item ? { accountId, read: 'seen', item } : { accountId, read: 'missing' });
    } catch (err) {
      options.signal?.throwIfAborted();
      out.push({ accountId, read: 'unreadable', error: errorText(err) });
    }
  }
  return out;
}

/**
 * Every account of the team (or of a filter), the listing read again from the start when a
 * page fails ({@link withRetry}); throws the last error when it keeps failing.
 */
export async function listWithRetry<T>(
  list: () => AsyncIterable<T>,
  options: RetryOptions = {},
): Promise<T[]> {
  return withRetry(async () => {
    const items: T[] = [];
    for await (const item of list()) items.push(item);
    return items;
  }, options);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
