/**
 * Manual actions (the `deactivate` / `activate` commands and, later, the admin API): turn a
 * list of accounts into intents with source `manual`. Makes intents only; the queue does the rest.
 */
import { randomUUID } from 'node:crypto';
import { IntentValidationError } from '../errors.js';
import type { Action, IntentInput } from '../model.js';

export interface ManualRequest {
  action: Action;
  providerIds: readonly string[];
  /** The idempotency key; only with exactly one account. Default: `<action>-<uuid>` per account. */
  key?: string;
  reason?: string;
}

export interface ManualIntents {
  intents: IntentInput[];
  /** Accounts named more than once: each is asked for once. */
  repeated: string[];
}

export function manualIntents(request: ManualRequest): ManualIntents {
  if (request.providerIds.length === 0) {
    throw new IntentValidationError(['provider_id: at least one account id is required']);
  }
  const unique = new Set<string>();
  const repeated = new Set<string>();
  for (const id of request.providerIds) (unique.has(id) ? repeated : unique).add(id);
  if (request.key !== undefined && unique.size !== 1) {
    throw new IntentValidationError([
      `idempotency_key: can only be given with exactly one account id (got ${unique.size})`,
    ]);
  }
  const intents = [...unique].map((providerId) => ({
    action: request.action,
    providerId,
    idempotencyKey: request.key ?? `${request.action}-${randomUUID()}`,
    source: 'manual' as const,
    reason: request.reason ?? '',
  }));
  return { intents, repeated: [...repeated] };
}
