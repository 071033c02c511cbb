/**
 * What `batch cancel` and `batch undo` share: the idempotency keys of the activations they ask
 * for, and the enqueueing of those a release bound (store/holds.ts).
 */
import { bulkKey } from '../producers/bulk/run.js';
import type { Producer } from '../queue/enqueue.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { readStates } from '../store/binding.js';
import type { Keys } from '../store/keys.js';

/**
 * Add the jobs of the activations `ids` (keys `keyOf`) whose bindings are queued: those a
 * release just bound in its own step (store/holds.ts), and those an earlier run of the same
 * command bound but was killed before enqueueing. Answers the accounts enqueued.
 */
export async function enqueueBound(
  deps: { producer: Producer; redis: Redis; keys: Keys },
  ids: readonly string[],
  keyOf: (accountId: string) => string,
  batchId: string,
  reason: string,
  /** Who asked (the undo's or the cancel's actor), carried by each activation. */
  actor?: string,
): Promise<Set<string>> {
  const states = await readStates(deps.redis, deps.keys, ids.map(keyOf));
  const queued = ids.filter((_id, i) => states[i] === 'queued');
  if (queued.length > 0) {
    await deps.producer.enqueueMany(
      queued.map((accountId) => ({
        action: 'activate' as const,
        accountId,
        idempotencyKey: keyOf(accountId),
        source: 'bulk' as const,
        sourceRef: batchId,
        reason,
        ...(actor === undefined ? {} : { actor }),
      })),
    );
  }
  return new Set(queued);
}

/**
 * The idempotency key of the activation `batch cancel` asks for an account whose last hold was
 * the run's, whose base is `active`, and that is not known to be on.
 */
export function cancelKey(batchId: string, accountId: string): string {
  return `${bulkKey(batchId, accountId)}:cancel`;
}

/** The idempotency key of the activation `batch undo` asks for an account. */
export function undoKey(batchId: string, accountId: string): string {
  return `${bulkKey(batchId, accountId)}:undo`;
}
