/**
 * Reading bulk runs' records (batch-record.ts has the format, batch-undo-record.ts the undo's
 * part): one batch, the latest ones, and a batch's accounts with their terminal events, a page
 * at a time (in no order; batch-report-read.ts reads them in order, with their state now).
 */
import type { Action, ActionEvent } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { BT, type BatchRecord } from './batch-record.js';
import { undoRecordOf } from './batch-undo-record.js';
import { decodeActionEvent } from './event-codec.js';
import type { Keys } from './keys.js';

function iso(ms: string | undefined): string | null {
  const n = Number(ms);
  return ms && Number.isFinite(n) ? new Date(n).toISOString() : null;
}

function toRecord(batchId: string, h: Record<string, string>): BatchRecord {
  const n = (k: string) => Number(h[k] ?? 0) || 0;
  const total = n(BT.total);
  const done = n(BT.done);
  return {
    batch_id: batchId,
    action: (h[BT.action] ?? 'deactivate') as Action,
    source: h[BT.source] ?? '',
    reason: h[BT.reason] ?? '',
    created_at: iso(h[BT.createdAt]) ?? '',
    created_by: h[BT.createdBy] || null,
    pass_started_at: iso(h[BT.passStartedAt]),
    finished_at: iso(h[BT.finishedAt]),
    passes: n(BT.passes),
    enqueue_done: h[BT.enqueueDone] === '1',
    total,
    queued: Math.max(0, total - done),
    succeeded: n(BT.succeeded),
    failed: n(BT.failed),
    superseded: n(BT.superseded),
    cancelled: n(BT.cancelled),
    cancelled_at: iso(h[BT.cancelledAt]),
    cancelled_by: h[BT.cancelledBy] || null,
    skipped: n(BT.skipped),
    invalid: n(BT.invalid),
    duplicates: n(BT.duplicates),
    undo: undoRecordOf(h),
  };
}

/** One batch's record, or undefined if there is no such batch. */
export async function readBatch(
  redis: Redis,
  keys: Keys,
  batchId: string,
): Promise<BatchRecord | undefined> {
  const h = await redis.hgetall(keys.batch(batchId));
  return h[BT.action] === undefined ? undefined : toRecord(batchId, h);
}

/** The most recent batches, newest first. */
export async function listBatches(redis: Redis, keys: Keys, limit = 100): Promise<BatchRecord[]> {
  const ids = await redis.zrevrange(keys.batchIndex, 0, Math.max(0, limit - 1));
  if (ids.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hgetall(keys.batch(id));
  const replies = (await pipeline.exec()) ?? [];
  const out: BatchRecord[] = [];
  replies.forEach(([err, h], i) => {
    if (err) throw err;
    const id = ids[i];
    const hash = h as Record<string, string> | null;
    if (id !== undefined && hash?.[BT.action] !== undefined) out.push(toRecord(id, hash));
  });
  return out;
}

/** One account of a batch: its terminal event, or none yet. */
export interface BatchAccount {
  account_id: string;
  event: ActionEvent | undefined;
}

/** Every account of a batch, a page at a time (HSCAN: no order, each once). */
export async function* readBatchAccounts(
  redis: Redis,
  keys: Keys,
  batchId: string,
  pageSize = 1000,
): AsyncGenerator<BatchAccount> {
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(keys.batchAccounts(batchId), cursor, 'COUNT', pageSize);
    cursor = next;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = flat[i] ?? '';
      const value = flat[i + 1] ?? '';
      yield {
        account_id: id,
        event: value === '' ? undefined : decodeActionEvent(undefined, value),
      };
    }
  } while (cursor !== '0');
}
