/**
 * What the wire views share: small schemas and the one rename rule. Every JSON thing a user sees
 * (HTTP answers, CLI `--json`, events as served, printed and notified) is snake_case, and an
 * account is `account_id` (Sendmux's API says "provider"; the surface says "account"). The
 * store keeps its own field names; the views map them.
 */
import { z } from 'zod';
import { BASE_STATES, SOURCES } from '../model.js';

/** A sending account id (`dprov_...`). */
export const accountIdSchema = z.string().describe('a sending account id (`dprov_...`)');
/** An ISO 8601 time. */
export const timeSchema = z.string().describe('an ISO 8601 time');
export const baseStateSchema = z.enum(BASE_STATES);
export const sourceSchema = z.enum(SOURCES);

/** How an intent ended, as its event and an action's report both say it (null: not known). */
export const outcomeDetailShape = {
  http_status: z.number().nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  request_id: z.string().nullable(),
  account_status: z.string().nullable(),
  superseded_by: z.string().nullable(),
};

/** The keys of a JSON value that are not snake_case (lowercase, digits, `_`), recursively. */
export function nonSnakeKeys(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => nonSnakeKeys(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(/^[a-z0-9]+(_[a-z0-9]+)*$/.test(k) ? [] : [`${path}.${k}`]),
    ...nonSnakeKeys(v, `${path}.${k}`),
  ]);
}
