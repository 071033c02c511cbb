/** Query parsing for GET /providers: limit, status, type and the opaque cursor. */
import type { AccountStore, PageQuery } from './accounts.js';
import type { ProviderStatus, ProviderType } from './types.js';

export type ListQuery = Record<string, string | string[] | undefined>;

export type ParsedList =
  { ok: true; query: PageQuery } | { ok: false; param: string; message: string };

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

export function parseListQuery(q: ListQuery, accounts: AccountStore): ParsedList {
  const { limit, status, type, cursor } = q;
  if (
    Array.isArray(limit) ||
    Array.isArray(status) ||
    Array.isArray(type) ||
    Array.isArray(cursor)
  ) {
    const param = ['limit', 'status', 'type', 'cursor'].find((k) => Array.isArray(q[k])) ?? 'limit';
    return { ok: false, param, message: `${param} must be given at most once` };
  }
  let n = 50;
  if (limit !== undefined) {
    n = /^\d{1,3}$/.test(limit) ? Number(limit) : 0;
    if (n < 1 || n > 100)
      return { ok: false, param: 'limit', message: 'limit must be an integer between 1 and 100' };
  }
  const st = status === undefined ? undefined : oneOf(STATUSES, status);
  if (status !== undefined && st === undefined) {
    return { ok: false, param: 'status', message: `status must be one of ${STATUSES.join(', ')}` };
  }
  const ty = type === undefined ? undefined : oneOf(TYPES, type);
  if (type !== undefined && ty === undefined) {
    return { ok: false, param: 'type', message: `type must be one of ${TYPES.join(', ')}` };
  }
  let afterId: string | undefined;
  if (cursor !== undefined) {
    afterId = decodeCursor(cursor);
    if (afterId === undefined || !accounts.has(afterId)) {
      return { ok: false, param: 'cursor', message: 'cursor is not a valid next_cursor value' };
    }
  }
  return { ok: true, query: { limit: n, status: st, type: ty, afterId } };
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
