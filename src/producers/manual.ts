/**
 * Manual actions (the `deactivate` / `activate` commands and, later, the admin API): turn a
 * list of accounts into intents with source `manual`, and keep the account's `manual` hold
 * (store/holds.ts) in step with them.
 *
 * - **deactivate** records what the API says the account is now (when it can read it), takes
 *   hold `manual` (ref = the intent's idempotency key), then enqueues. The hold comes first: a
 *   crash between the two leaves a hold whose intent a re-run enqueues (a hold is taken once
 *   per id; a second one is a no-op).
 * - **activate** releases hold `manual` on each account and, in the same step, binds the
 *   activation of every account no hold is left on (store/holds.ts); accounts other sources
 *   still hold off (breaker, window, bulk run) are reported as held, with the ids of those
 *   holds, and nothing is enqueued for them: they come back on when their last hold goes (if
 *   their base is `active`). An account whose only hold was `manual` is activated whatever
 *   its base: the operator asked.
 */
import { randomUUID } from 'node:crypto';
import { IdempotencyKeyConflictError, IntentValidationError } from '../errors.js';
import { fingerprint, parseIntents, type Action, type Intent, type IntentInput } from '../model.js';
import type { EnqueueResult, Producer } from '../queue/enqueue.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { findConflict } from '../store/claim-keys.js';
import { seenOf, type HoldInput, type Seen } from '../store/hold-record.js';
import { releaseHolds, takeHold } from '../store/holds.js';
import type { Keys } from '../store/keys.js';
import { readAccounts, type AccountReader } from './account-states.js';

/** The hold id of manual deactivations (one per account, whichever key asked). */
export const MANUAL_HOLD = 'manual';

export interface ManualRequest {
  action: Action;
  accountIds: readonly string[];
  /** The idempotency key; only with exactly one account. Default: `<action>-<uuid>` per account. */
  key?: string;
  reason?: string;
  /** Who asks (model/actor.ts): its intents and `manual` holds say so. */
  actor?: string;
}

export interface ManualIntents {
  intents: IntentInput[];
  /** Accounts named more than once: each is asked for once. */
  repeated: string[];
}

export function manualIntents(request: ManualRequest): ManualIntents {
  if (request.accountIds.length === 0) {
    throw new IntentValidationError(['account_id: at least one account id is required']);
  }
  const unique = new Set<string>();
  const repeated = new Set<string>();
  for (const id of request.accountIds) (unique.has(id) ? repeated : unique).add(id);
  if (request.key !== undefined && unique.size !== 1) {
    throw new IntentValidationError([
      `idempotency_key: can only be given with exactly one account id (got ${unique.size})`,
    ]);
  }
  const intents = [...unique].map((accountId) => ({
    action: request.action,
    accountId,
    idempotencyKey: request.key ?? `${request.action}-${randomUUID()}`,
    source: 'manual' as const,
    reason: request.reason ?? '',
    ...(request.actor === undefined ? {} : { actor: request.actor }),
  }));
  return { intents, repeated: [...repeated] };
}

export interface ManualDeps {
  producer: Producer;
  redis: Redis;
  keys: Keys;
  /**
   * The API, through the rate budget: what a deactivated account is now, recorded with its
   * hold. Without it the hold's base is what the project last recorded, `unknown` if nothing:
   * such an account is never switched back on by another source releasing the last hold; only
   * an explicit `activate` brings it back.
   */
  reader?: AccountReader;
}

/** What became of one account of a manual request. */
export type ManualOutcome =
  | { accountId: string; action: Action; held: false; result: EnqueueResult }
  /** An activation not enqueued: other sources still hold the account off. */
  | { accountId: string; action: Action; held: true; heldBy: string[] };

export interface ManualRun {
  /** One per distinct account, in the order given. */
  outcomes: ManualOutcome[];
  repeated: string[];
  /** Things the caller should show (accounts that could not be read, ...). */
  warnings: string[];
}

/**
 * Take or release the `manual` holds and enqueue. Validates every intent and checks a given
 * key for a conflict before touching any hold: a refused request changes nothing.
 */
export async function runManual(
  deps: ManualDeps,
  request: ManualRequest,
  signal?: AbortSignal,
): Promise<ManualRun> {
  const { intents: inputs, repeated } = manualIntents(request);
  const intents = parseIntents(inputs);
  await refuseConflicts(deps, intents);
  if (request.action === 'deactivate') {
    const { seen, warnings } = await readSeen(
      deps.reader,
      intents.map((i) => i.accountId),
      signal,
    );
    // One hold each (its ref is the account's own key); sent side by side. What was read is
    // recorded with it; the base is what the project knows (store/holds.ts).
    await Promise.all(
      intents.map((i) =>
        takeHold(deps.redis, deps.keys, i.accountId, holdOf(i), seen.get(i.accountId)),
      ),
    );
    const results = await deps.producer.enqueueMany(intents);
    return {
      outcomes: results.map((result) => ({
        accountId: result.accountId,
        action: result.action,
        held: false,
        result,
      })),
      repeated,
      warnings,
    };
  }

  // One step for all: release `manual`, and where no hold is left, bind the activation in the
  // same step (whatever the base: the operator asked), so no hold can slip in between.
  const ids = intents.map((i) => i.accountId);
  const keyOf = new Map(intents.map((i) => [i.accountId, i.idempotencyKey] as const));
  const released = await releaseHolds(deps.redis, deps.keys, ids, MANUAL_HOLD, (id) => ({
    key: keyOf.get(id) ?? '',
    source: 'manual',
    mode: 'force',
  }));
  const heldBy = new Map<string, string[]>();
  const boundNow = new Set<string>();
  ids.forEach((id, i) => {
    const r = released[i];
    if (!r?.activation) heldBy.set(id, r?.heldBy ?? []);
    else if (r.activation.state === 'new') boundNow.add(id);
  });
  const free = intents.filter((i) => !heldBy.has(i.accountId));
  // Bound above: enqueueing adds the job (the key is found queued, or terminal when reused).
  const results = new Map(
    (await deps.producer.enqueueMany(free)).map((r) => {
      const fresh: EnqueueResult = boundNow.has(r.accountId)
        ? { ...r, status: 'enqueued', state: 'new' }
        : r;
      return [r.accountId, fresh] as const;
    }),
  );
  const outcomes = ids.map((accountId): ManualOutcome => {
    const result = results.get(accountId);
    if (result && result.status !== 'held') {
      return { accountId, action: 'activate', held: false, result };
    }
    return { accountId, action: 'activate', held: true, heldBy: heldBy.get(accountId) ?? [] };
  });
  return { outcomes, repeated, warnings: [] };
}

function holdOf(intent: Intent): HoldInput {
  return {
    id: MANUAL_HOLD,
    source: 'manual',
    ref: intent.idempotencyKey,
    reason: intent.reason,
    actor: intent.actor ?? null,
  };
}

/** A given key bound to another intent refuses the request before any hold is touched. */
async function refuseConflicts(deps: ManualDeps, intents: readonly Intent[]): Promise<void> {
  const conflict = await findConflict(
    deps.redis,
    deps.keys,
    intents.map((i) => ({
      key: i.idempotencyKey,
      fingerprint: fingerprint(i),
      action: i.action,
      accountId: i.accountId,
      source: i.source,
    })),
  );
  if (conflict) {
    throw new IdempotencyKeyConflictError(conflict.key, conflict.existing, conflict.requested);
  }
}

/**
 * What each account is now, read from the API, to record with its hold (the hold's base is what
 * the project knows, store/holds.ts). A read that fails (the API down, a refused key) records
 * nothing and warns: the deactivation itself must not wait for it.
 */
async function readSeen(
  reader: AccountReader | undefined,
  ids: readonly string[],
  signal?: AbortSignal,
): Promise<{ seen: Map<string, Seen>; warnings: string[] }> {
  const seen = new Map<string, Seen>();
  if (!reader) {
    return {
      seen,
      warnings: [
        'no API key (SENDMUX_API_KEY): the accounts were not read; what they are without holds is what the project last recorded (unknown if nothing: then no other source switches them back on; `activate` does)',
      ],
    };
  }
  try {
    for (const [id, item] of await readAccounts(reader, ids, signal)) {
      if (item) seen.set(id, seenOf(item));
    }
    return { seen, warnings: [] };
  } catch (err) {
    signal?.throwIfAborted();
    const why = err instanceof Error ? err.message : String(err);
    return {
      seen: new Map(),
      warnings: [
        `could not read the accounts (${why}): what they are without holds is what the project last recorded (unknown if nothing: then no other source switches them back on; \`activate\` does)`,
      ],
    };
  }
}
