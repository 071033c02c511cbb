/**
 * The account status hash `<prefix>:status:<id>`: the last state the API reported for an
 * account, the newest intent recorded for it, and its last error. This file owns the field
 * names (record-outcome.ts writes them, {@link readStatuses} reads them).
 *
 * Two parts move forward independently, so neither ever goes backwards:
 * - the account part (status, is_active, ...) is replaced only by an answer whose `updated_at`
 *   is newer (or equal, from a newer intent): a late replay cannot undo a newer change;
 * - the intent part (last_action, last_outcome, ...) only by an intent with a higher sequence
 *   number.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** Field names of the status hash. */
export const S = {
  providerId: 'provider_id',
  status: 'status',
  isActive: 'is_active',
  statusReason: 'status_reason',
  updatedAt: 'updated_at',
  updatedAtMs: 'updated_at_ms',
  requestId: 'request_id',
  statusSeq: 'status_seq',
  lastAction: 'last_action',
  lastOutcome: 'last_outcome',
  idempotencyKey: 'idempotency_key',
  source: 'source',
  sourceRef: 'source_ref',
  reason: 'reason',
  recordedAt: 'recorded_at',
  lastSeq: 'last_seq',
  errorCode: 'last_error_code',
  errorStatus: 'last_error_status',
  errorMessage: 'last_error_message',
  errorRequestId: 'last_error_request_id',
  errorAt: 'last_error_at',
} as const;

/** The last known state of one account, as the API reported it, plus who changed it and why. */
export interface AccountStatus {
  provider_id: string;
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

function toStatus(providerId: string, h: Record<string, string>): AccountStatus {
  const s = (k: string) => (h[k] ? (h[k] ?? null) : null);
  const outcome = s(S.lastOutcome);
  return {
    provider_id: providerId,
    status: s(S.status),
    is_active:
      h[S.isActive] === undefined || h[S.isActive] === '' ? null : h[S.isActive] === 'true',
    status_reason: s(S.statusReason),
    updated_at: s(S.updatedAt),
    request_id: s(S.requestId),
    last_action: s(S.lastAction),
    last_outcome: outcome === 'succeeded' || outcome === 'failed' ? outcome : null,
    idempotency_key: s(S.idempotencyKey),
    source: s(S.source),
    source_ref: s(S.sourceRef),
    reason: h[S.lastAction] ? (h[S.reason] ?? '') : null,
    recorded_at: s(S.recordedAt),
    last_error: h[S.errorCode]
      ? {
          code: h[S.errorCode] ?? '',
          http_status: h[S.errorStatus] ? Number(h[S.errorStatus]) : null,
          message: h[S.errorMessage] ?? '',
          request_id: s(S.errorRequestId),
          at: h[S.errorAt] ?? '',
        }
      : null,
  };
}

/** Statuses of the given accounts (those never recorded are left out), in the order asked. */
export async function readStatuses(
  redis: Redis,
  keys: Keys,
  providerIds: readonly string[],
): Promise<AccountStatus[]> {
  if (providerIds.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of providerIds) pipeline.hgetall(keys.status(id));
  const replies = (await pipeline.exec()) ?? [];
  const out: AccountStatus[] = [];
  replies.forEach(([err, hash], i) => {
    if (err) throw err;
    const id = providerIds[i];
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
