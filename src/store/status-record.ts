/**
 * The account status hash `<prefix>:status:<id>`: the last state the API reported for an
 * account, the newest intent recorded for it, and its last error. This file owns the field
 * names and the account part's encoding (record-outcome.ts writes them, {@link readStatuses}
 * reads them). The intent part and the last error are the events themselves, as JSON.
 *
 * Two parts move forward independently, so neither ever goes backwards:
 * - the account part (status, is_active, ...) is replaced only by an answer whose `updated_at`
 *   is newer (or equal, from a newer intent): a late replay cannot undo a newer change;
 * - the intent part (last_action, last_outcome, ...) only by an intent with a higher sequence
 *   number.
 */
import type { AccountState } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { decodeActionEvent } from './event-codec.js';
import type { Keys } from './keys.js';

/** Field names of the status hash. */
export const S = {
  /** Sequence number of the newest intent recorded (the intent part). */
  lastSeq: 'last_seq',
  /** The newest intent's terminal event, as JSON (event-codec.ts). */
  last: 'last',
  /** The newest failure's event, as JSON. */
  lastError: 'last_error',
  /** Sequence number of the intent whose answer gave the account part. */
  statusSeq: 'status_seq',
  /** The answer's `updated_at` in ms ('' when unknown): what "newer" compares. */
  updatedAtMs: 'updated_at_ms',
  /** The account part, as JSON ({@link AccountPart}). */
  account: 'account',
} as const;

/** What the newest answer said about the account. */
interface AccountPart {
  status: string | null;
  is_active: boolean | null;
  status_reason: string | null;
  updated_at: string | null;
  request_id: string | null;
}

/** The account part of the status, as record-outcome.ts stores it. */
export function encodeAccountPart(account: AccountState, requestId: string | null): string {
  const part: AccountPart = {
    status: account.status,
    is_active: account.is_active,
    status_reason: account.status_reason,
    updated_at: account.updated_at,
    request_id: requestId,
  };
  return JSON.stringify(part);
}

/** The last known state of one account, as the API reported it, plus who changed it and why. */
export interface AccountStatus {
  account_id: string;
  /** From the newest answer about the account; null if no action on it has succeeded yet. */
  status: string | null;
  is_active: boolean | null;
  status_reason: string | null;
  updated_at: string | null;
  /** Request id of the answer the status comes from. */
  request_id: string | null;
  last_action: string | null;
  last_outcome: 'succeeded' | 'failed' | null;
  idempotency_key: string | null;
  source: string | null;
  source_ref: string | null;
  /** The reason given with the last intent ('' when none was given). */
  reason: string | null;
  recorded_at: string | null;
  last_error: {
    code: string;
    http_status: number | null;
    message: string;
    request_id: string | null;
    at: string;
  } | null;
}

function toStatus(accountId: string, h: Record<string, string>): AccountStatus {
  const event = (k: string) => {
    const raw = h[k];
    return raw ? decodeActionEvent(undefined, raw) : undefined;
  };
  const rawAccount = h[S.account];
  const account = rawAccount ? (JSON.parse(rawAccount) as AccountPart) : undefined;
  const last = event(S.last);
  const error = event(S.lastError);
  const outcome = last?.type === 'action.succeeded' ? 'succeeded' : last ? 'failed' : null;
  return {
    account_id: accountId,
    status: account?.status || null,
    is_active: account?.is_active ?? null,
    status_reason: account?.status_reason || null,
    updated_at: account?.updated_at || null,
    request_id: account?.request_id || null,
    last_action: last?.action ?? null,
    last_outcome: outcome,
    idempotency_key: last?.idempotency_key ?? null,
    source: last?.source ?? null,
    source_ref: last?.source_ref || null,
    reason: last ? last.reason : null,
    recorded_at: last?.at ?? null,
    last_error: error
      ? {
          code: error.error_code ?? '',
          http_status: error.http_status,
          message: error.error_message ?? '',
          request_id: error.request_id || null,
          at: error.at,
        }
      : null,
  };
}

/** Statuses of the given accounts (those never recorded are left out), in the order asked. */
export async function readStatuses(
  redis: Redis,
  keys: Keys,
  accountIds: readonly string[],
): Promise<AccountStatus[]> {
  if (accountIds.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of accountIds) pipeline.hgetall(keys.status(id));
  const replies = (await pipeline.exec()) ?? [];
  const out: AccountStatus[] = [];
  replies.forEach(([err, hash], i) => {
    if (err) throw err;
    const id = accountIds[i];
    if (id !== undefined && hash && typeof hash === 'object' && Object.keys(hash).length > 0) {
      out.push(toStatus(id, hash as Record<string, string>));
    }
  });
  return out;
}

/** The most recently changed accounts, newest first. */
export async function listStatuses(
  redis: Redis,
  keys: Keys,
  limit = 1000,
): Promise<AccountStatus[]> {
  const ids = await redis.zrevrange(keys.statusIndex, 0, Math.max(0, limit - 1));
  return readStatuses(redis, keys, ids);
}
