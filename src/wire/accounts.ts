/**
 * Accounts as a user sees them: holds (`holds --json`, `GET /v1/holds[/:account]`), recorded
 * statuses with their holds (`status --json`, `GET /v1/accounts[/:account]`, the overview).
 */
import { z } from 'zod';
import type { Hold } from '../model.js';
import type { AccountWithHolds } from '../ops/account-status.js';
import type { HeldState } from '../ops/held-state.js';
import type { HeldAccount } from '../ops/holds.js';
import type { AccountHolds } from '../store/holds.js';
import { accountIdSchema, baseStateSchema, sourceSchema, timeSchema } from './common.js';

export const holdSchema = z.strictObject({
  /** Unique per account: `breaker`, `window:<id>:<occurrence>`, `bulk:<batch>`, `manual`. */
  id: z.string(),
  source: sourceSchema,
  /** What inside the source took it (trip id, window id, batch id). */
  ref: z.string().nullable(),
  reason: z.string(),
  /** Who took it (model/actor.ts); null for holds stored before actors existed. */
  actor: z.string().nullable(),
  at: timeSchema,
});

/** One account's holds; `before`: its base (what it is without holds); `since`: first hold. */
export const accountHoldsSchema = z.strictObject({
  account_id: accountIdSchema,
  holds: z.array(holdSchema),
  before: baseStateSchema,
  since: timeSchema.nullable(),
});
export type AccountHoldsView = z.infer<typeof accountHoldsSchema>;

/**
 * Held is not off (issue 20 §3): `still_on` is a held account not recorded off (its latest
 * deactivation failed, or it is recorded active); `last_failure` that deactivation's failure;
 * `next_step` the commands that retry it or let it go (null unless still on after a failure).
 */
export const heldStateShape = {
  still_on: z.boolean(),
  last_failure: z
    .strictObject({ error_code: z.string(), error_message: z.string(), at: timeSchema })
    .nullable(),
  next_step: z.string().nullable(),
};

function heldStateView(h: HeldState): z.infer<z.ZodObject<typeof heldStateShape>> {
  return {
    still_on: h.still_on,
    last_failure: h.last_failure && { ...h.last_failure },
    next_step: h.next_step,
  };
}

/** One account's holds and what it is under them (`holds --json`, `GET /v1/holds[/:account]`). */
export const heldAccountSchema = z.strictObject({
  ...accountHoldsSchema.shape,
  ...heldStateShape,
});
export type HeldAccountView = z.infer<typeof heldAccountSchema>;

export function heldAccountView(a: HeldAccount): HeldAccountView {
  return { ...accountHoldsView(a), ...heldStateView(a) };
}

/** `GET /v1/holds`. */
export const holdsListSchema = z.strictObject({ accounts: z.array(heldAccountSchema) });

function holdView(h: Hold): z.infer<typeof holdSchema> {
  return {
    id: h.id,
    source: h.source,
    ref: h.ref,
    reason: h.reason,
    actor: h.actor,
    at: h.at,
  };
}

export function accountHoldsView(a: AccountHolds): AccountHoldsView {
  return {
    account_id: a.accountId,
    holds: a.holds.map(holdView),
    before: a.before,
    since: a.since,
  };
}

export const lastErrorSchema = z.strictObject({
  code: z.string(),
  http_status: z.number().nullable(),
  message: z.string(),
  request_id: z.string().nullable(),
  at: timeSchema,
});

/** An account's recorded status (nulls where nothing is recorded) and what keeps it off. */
export const accountSchema = z.strictObject({
  account_id: accountIdSchema,
  status: z.string().nullable(),
  is_active: z.boolean().nullable(),
  status_reason: z.string().nullable(),
  updated_at: timeSchema.nullable(),
  request_id: z.string().nullable(),
  last_action: z.string().nullable(),
  last_outcome: z.enum(['succeeded', 'failed']).nullable(),
  idempotency_key: z.string().nullable(),
  source: z.string().nullable(),
  source_ref: z.string().nullable(),
  reason: z.string().nullable(),
  recorded_at: timeSchema.nullable(),
  last_error: lastErrorSchema.nullable(),
  holds: z.array(holdSchema),
  held_before: baseStateSchema.nullable(),
  held_since: timeSchema.nullable(),
  ...heldStateShape,
});
export type AccountView = z.infer<typeof accountSchema>;

/**
 * `GET /v1/accounts`: a page of recorded accounts, most recently changed first (with `q`, those
 * whose id contains it); `next_cursor` asks for the next page (null: no more).
 */
export const accountsListSchema = z.strictObject({
  accounts: z.array(accountSchema),
  next_cursor: z.string().nullable(),
});

export function accountView(a: AccountWithHolds): AccountView {
  return {
    account_id: a.account_id,
    status: a.status,
    is_active: a.is_active,
    status_reason: a.status_reason,
    updated_at: a.updated_at,
    request_id: a.request_id,
    last_action: a.last_action,
    last_outcome: a.last_outcome,
    idempotency_key: a.idempotency_key,
    source: a.source,
    source_ref: a.source_ref,
    reason: a.reason,
    recorded_at: a.recorded_at,
    last_error: a.last_error && {
      code: a.last_error.code,
      http_status: a.last_error.http_status,
      message: a.last_error.message,
      request_id: a.last_error.request_id,
      at: a.last_error.at,
    },
    holds: a.holds.map(holdView),
    held_before: a.held_before,
    held_since: a.held_since,
    ...heldStateView(a),
  };
}
