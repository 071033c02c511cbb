/**
 * BullMQ job ids derived from idempotency keys and the binding's sequence number.
 *
 * BullMQ refuses ids containing `:` and ids that parse as integers. The key is escaped (`%`,
 * `:` and `@` percent-encoded) behind a `k-` prefix, and the binding's sequence number follows
 * an `@`: so the id is injective, reversible, never all-digit, readable in dashboards, and a
 * key bound again after its binding expired gets a new job instead of colliding with the old
 * one that BullMQ may still keep (a key is never silently dead). Nothing is truncated.
 */

const ESCAPES: Record<string, string> = { '%': '%25', ':': '%3A', '@': '%40' };
const escape = (c: string) => ESCAPES[c] ?? c;

export function jobIdFor(idempotencyKey: string, seq: number): string {
  return `k-${idempotencyKey.replace(/[%:@]/g, escape)}@${seq}`;
}

export function parseJobId(jobId: string): { idempotencyKey: string; seq: number } {
  const at = jobId.lastIndexOf('@');
  if (!jobId.startsWith('k-') || at < 0) throw new Error(`not a key-derived job id: ${jobId}`);
  const seq = Number(jobId.slice(at + 1));
  if (!Number.isSafeInteger(seq)) throw new Error(`not a key-derived job id: ${jobId}`);
  const idempotencyKey = jobId
    .slice(2, at)
    .replace(/%(25|3A|40)/g, (_m, code: string) => String.fromCharCode(parseInt(code, 16)));
  return { idempotencyKey, seq };
}
