/** A batch's ids: the batch id, its accounts' idempotency keys, the hold a deactivate run takes. */
import { randomBytes } from 'node:crypto';

/** A new batch id: sortable by time, unique enough to never meet another. */
export function newBatchId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `bulk-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The idempotency key of an account's intent in a batch. */
export function bulkKey(batchId: string, accountId: string): string {
  return `bulk:${batchId}:${accountId}`;
}

/** The hold a deactivate run takes on each of its accounts. */
export function bulkHoldId(batchId: string): string {
  return `bulk:${batchId}`;
}
