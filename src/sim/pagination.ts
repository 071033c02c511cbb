/**
 * Query parsing for the lists: GET /providers (limit, status, type, cursor) and
 * GET /emails/logs (limit, cursor, provider_id, status, search), with the opaque cursor.
 */
import type { AccountStore, PageQuery } from './accounts.js';
import { DELIVERY_LOG_STATUSES } from './delivery-logs.js';
import type { DeliveryLogStore, LogQuery } from './delivery-logs.js';
import type { ProviderStatus, ProviderType } from './types.js';

export type ListQuery = Record<string, string | string[] | undefined>;

type Invalid = { ok: false; param: string; message: string };

export type ParsedList = { ok: true; query: PageQuery } | Invalid;

export type ParsedLogList = { ok: true; query: LogQuery } | Invalid;

const STATUSES: readonly ProviderStatus[] = ['active', 'inactive', 'error', 'pending'];
const TYPES: readonly ProviderType[] = ['smtp', 'gmail_api', 'outlook_api', 'amazon_ses'];
const CURSOR_PREFIX = 'c1:';

export function encodeCursor(afterId: string): string {
  return Buffer.from(CURSOR_PREFIX + afterId, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  return raw.startsWith(CURSOR_PREFIX) ? raw.slice(CURSOR_PREFIX.length) : undefined;
}

function oneOf<T extends string>(values: readonly T[], v: string): T | undefined {
  return values.find((x) => x === v);
}

/** The first of `keys` given more than once, as a 400. */
function repeated(q: ListQuery, keys: readonly string[]): Invalid | undefined {
  const param = keys.find((k) => Array.isArray(q[k]));
  return param === undefined
    ? undefined
    : { ok: false, param, message: `${param} must be given at most once` };
}

/** `limit`: an integer 1..100, `fallback` when absent. */
function parseLimit(limit: string | undefined, fallback: number): number | Invalid {
  if (limit === undefined) return fallback;
  const n = /^\d{1,3}$/.test(limit) ? Number(limit) : 0;
  return n < 1 || n > 100
    ? { ok: false, param: 'limit', message: 'limit must be an integer between 1 and 100' }
    : n;
}

/** `cursor`: a next_cursor this list gave, naming an item `known` still holds. */
function parseCursor(
  cursor: string | undefined,
  known: (id: string) => boolean,
): { afterId: string | undefined } | Invalid {
  if (cursor === undefined) return { afterId: undefined };
  const afterId = decodeCursor(cursor);
  return afterId === undefined || !known(afterId)
    ? { ok: false, param: 'cursor', message: 'cursor is not a valid next_cursor value' }
    : { afterId };
}

export function parseListQuery(q: ListQuery, accounts: AccountStore): ParsedList {
  const twice = repeated(q, ['limit', 'status', 'type', 'cursor']);
  if (twice !== undefined) return twice;
  const { limit, status, type, cursor } = q as Record<string, string | undefined>;
  const n = parseLimit(limit, 50);
  if (typeof n !== 'number') return n;
  const st = status === undefined ? undefined : oneOf(STATUSES, status);
  if (status !== undefined && st === undefined) {
    return { ok: false, param: 'status', message: `status must be one of ${STATUSES.join(', ')}` };
  }
  const ty = type === undefined ? undefined : oneOf(TYPES, type);
  if (type !== undefined && ty === undefined) {
    return { ok: false, param: 'type', message: `type must be one of ${TYPES.join(', ')}` };
  }
  const after = parseCursor(cursor, (id) => accounts.has(id));
  if ('ok' in after) return after;
  return { ok: true, query: { limit: n, status: st, type: ty, afterId: after.afterId } };
}

/**
 * GET /emails/logs: `limit` 1..100 (default 25), `cursor`, `provider_id` (exact), `status`,
 * `search` (case-insensitive substring; empty means no search). `from_date` and `to_date` are
 * not implemented (ignored, like any other unknown parameter).
 */
export function parseLogQuery(q: ListQuery, logs: DeliveryLogStore): ParsedLogList {
  const twice = repeated(q, ['limit', 'cursor', 'provider_id', 'status', 'search']);
  if (twice !== undefined) return twice;
  const { limit, cursor, provider_id, status, search } = q as Record<string, string | undefined>;
  const n = parseLimit(limit, 25);
  if (typeof n !== 'number') return n;
  if (provider_id === '') {
    return { ok: false, param: 'provider_id', message: 'provider_id must not be empty' };
  }
  const st = status === undefined ? undefined : oneOf(DELIVERY_LOG_STATUSES, status);
  if (status !== undefined && st === undefined) {
    return {
      ok: false,
      param: 'status',
      message: `status must be one of ${DELIVERY_LOG_STATUSES.join(', ')}`,
    };
  }
  const after = parseCursor(cursor, (id) => logs.has(id));
  if ('ok' in after) return after;
  return {
    ok: true,
    query: {
      limit: n,
      providerId: provider_id,
      status: st,
      search: search === undefined || search === '' ? undefined : search.toLowerCase(),
      afterId: after.afterId,
    },
  };
}

/** True when an If-None-Match header matches the weak ETag (weak comparison, `*` matches). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined || header === '') return false;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const part of header.split(',')) {
    const t = part.trim();
    if (t === '*' || t === opaque || (t.startsWith('W/') && t.slice(2) === opaque)) return true;
  }
  return false;
}
