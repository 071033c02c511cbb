/**
 * BullMQ job ids derived from idempotency keys.
 *
 * BullMQ refuses ids containing `:` and ids that parse as integers. The encoding escapes `%`
 * and `:` (percent-encoding) and adds a `k-` prefix, so it is injective, reversible, never
 * all-digit, and keeps keys readable in dashboards. Nothing is truncated.
 */

export function jobIdForKey(idempotencyKey: string): string {
  return `k-${idempotencyKey.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A'))}`;
}

export function keyForJobId(jobId: string): string {
  if (!jobId.startsWith('k-')) throw new Error(`not a key-derived job id: ${jobId}`);
  return jobId.slice(2).replace(/%(25|3A)/g, (_m, code: string) => (code === '25' ? '%' : ':'));
}
