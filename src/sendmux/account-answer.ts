/**
 * Reading the account out of a 2xx answer to an action or a read: the five fields this project
 * records, checked by hand (this runs once per job, so no schema library on the hot path).
 * A 2xx means the API did it: whatever does not match the contract is reported in `problems`
 * and read as well as it can be (an enum value Sendmux adds later is kept as a string), never
 * turned into an error. The full item, strictly checked, is `getProvider`'s business.
 */
import type { AccountState } from '../model.js';
import { PROVIDER_STATUSES } from './schemas.js';

export interface AccountAnswer extends AccountState {
  /** The account the answer is about (null if the body does not say). */
  id: string | null;
  /** Where the body departs from the contract (empty when it does not). */
  problems: string[];
}

const STATUSES: readonly string[] = PROVIDER_STATUSES;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readAccountAnswer(json: unknown): {
  account: AccountAnswer;
  requestId: string | null;
} {
  const problems: string[] = [];
  const body = isObject(json) ? json : undefined;
  if (!body) problems.push('(body): not a JSON object');
  const data = body && isObject(body.data) ? body.data : undefined;
  if (body && !data) problems.push('data: not an object');
  const text = (field: string, nullable: boolean): string | null => {
    const v = data?.[field];
    if (typeof v === 'string') return v;
    if (v === null && nullable) return null;
    if (data) problems.push(`data.${field}: expected a string${nullable ? ' or null' : ''}`);
    return null;
  };
  const id = text('id', false);
  const status = text('status', false);
  if (status !== null && !STATUSES.includes(status)) {
    problems.push(`data.status: unknown value "${status}" (kept as is)`);
  }
  const active = data?.is_active;
  if (data && typeof active !== 'boolean') problems.push('data.is_active: expected a boolean');
  const account: AccountAnswer = {
    id,
    status,
    is_active: typeof active === 'boolean' ? active : null,
    status_reason: text('status_reason', true),
    updated_at: text('updated_at', false),
    problems,
  };
  const meta = body && isObject(body.meta) ? body.meta : undefined;
  const requestId = typeof meta?.request_id === 'string' ? meta.request_id : null;
  return { account, requestId };
}
