/**
 * Response envelopes and request ids. Bodies are built by string concatenation around
 * pre-serialised items; request ids and cursors only contain [a-z0-9_-], so no escaping is needed.
 */
import { randomBytes } from 'node:crypto';

export type ApiErrorCode =
  | 'invalid_parameter'
  | 'missing_parameter'
  | 'authentication_required'
  | 'insufficient_permissions'
  | 'not_found'
  | 'conflict'
  | 'limit_exceeded'
  | 'idempotency_conflict'
  | 'payload_too_large'
  | 'validation_error'
  | 'rate_limit_exceeded'
  | 'service_unavailable'
  | 'internal_error';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A complete HTTP answer, as cached for idempotent replay. */
export interface SimResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LEN = 25;
const POOL_SIZE = ID_LEN * 1024;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

/** `req_` followed by 25 lowercase alphanumerics. */
export function newRequestId(): string {
  if (offset + ID_LEN > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  let id = 'req_';
  for (let i = 0; i < ID_LEN; i++) id += ALPHABET.charAt(pool.readUInt8(offset + i) % 36);
  offset += ID_LEN;
  return id;
}

/** Headers every API response carries. */
export function baseHeaders(requestId: string): Record<string, string> {
  return {
    'x-request-id': requestId,
    'cache-control': 'no-store',
    'content-type': JSON_CONTENT_TYPE,
  };
}

export function itemBody(requestId: string, itemJson: string): string {
  return `{"ok":true,"data":${itemJson},"meta":{"request_id":"${requestId}"}}`;
}

export function listBody(
  requestId: string,
  itemsJson: readonly string[],
  hasMore: boolean,
  nextCursor?: string,
): string {
  const pagination =
    nextCursor === undefined
      ? `{"has_more":${hasMore}}`
      : `{"has_more":${hasMore},"next_cursor":"${nextCursor}"}`;
  return `{"ok":true,"data":[${itemsJson.join(',')}],"pagination":${pagination},"meta":{"request_id":"${requestId}"}}`;
}

export interface ErrorSpec {
  code: ApiErrorCode;
  message: string;
  retryable: boolean;
  param?: string;
}

export function errorBody(requestId: string, e: ErrorSpec): string {
  const error =
    e.param === undefined
      ? { code: e.code, message: e.message, retryable: e.retryable }
      : { code: e.code, message: e.message, retryable: e.retryable, param: e.param };
  return JSON.stringify({ ok: false, error, meta: { request_id: requestId } });
}
