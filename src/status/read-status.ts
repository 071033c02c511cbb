/** Reading recorded account statuses. */
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.js';

/** The last known state of one account, as the API reported it, plus who changed it and why. */
export interface AccountStatus {
  provider_id: string;
  /** From the last successful action; null if no action on this account has succeeded yet. */
  status: string | null;
  is_active: boolean | null;
  status_reason: string | null;
  updated_at: string | null;
  /** Request id of the last successful call. */
  request_id: string | null;
  last_action: string | null;
  last_outcome: 'succeeded' | 'failed' | null;
  idempotency_key: string | null;
  source: string | null;
  source_ref: string | null;
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
  return {
    provider_id: providerId,
    status: s('status'),
    is_active: h.is_active === undefined ? null : h.is_active === 'true',
    status_reason: s('status_reason'),
    updated_at: s('updated_at'),
    request_id: s('request_id'),
    last_action: s('last_action'),
    last_outcome: (s('last_outcome') as AccountStatus['last_outcome']) ?? null,
    idempotency_key: s('idempotency_key'),
    source: s('source'),
    source_ref: s('source_ref'),
    reason: s('reason'),
    recorded_at: s('recorded_at'),
    last_error: h.last_error_code
      ? {
          code: h.last_error_code,
          http_status: h.last_error_status ? Number(h.last_error_status) : null,
          message: h.last_error_message ?? '',
          request_id: s('last_error_request_id'),
          at: h.last_error_at ?? '',
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
