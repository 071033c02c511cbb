/**
 * Reading a bulk run for its report: every account of the batch in account-id order, each with
 * what the run did (its terminal event), what the account is now (its recorded status and its
 * holds) and what `batch undo` did with it. The ids are read first (HSCAN, ids only: about
 * 100 bytes each in memory, some 10 MB at 100,000 accounts) and sorted; the rest is read a page
 * at a time, so the events and states are never all in memory at once.
 */
import type { ActionEvent } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { readAccountUndos, type AccountUndo } from './batch-undo-record.js';
import { decodeActionEvent } from './event-codec.js';
import { HOLD_FIELD } from './hold-lua.js';
import type { Keys } from './keys.js';
import { S } from './status-record.js';

/** One account of a batch as its report shows it. */
export interface BatchReportAccount {
  account_id: string;
  /** The run's intent's terminal event; undefined while it has none. */
  event: ActionEvent | undefined;
  /** The account's recorded status now (the newest answer or read about it); null if none. */
  status_now: string | null;
  /** The ids of the holds it has now, sorted (empty: none). */
  held_by: string[];
  /** What `batch undo` did with it (null if no undo reached it). */
  undo: AccountUndo | null;
}

/** The ids of a batch's accounts, sorted (code unit order: the same on every read). */
export async function sortedBatchAccountIds(
  redis: Redis,
  keys: Keys,
  batchId: string,
  scanCount = 1000,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(keys.batchAccounts(batchId), cursor, 'COUNT', scanCount);
    cursor = next;
    for (let i = 0; i < flat.length; i += 2) ids.push(flat[i] ?? '');
  } while (cursor !== '0');
  // HSCAN may return a field twice while the hash is rehashed.
  return [...new Set(ids)].sort();
}

function statusOf(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw === '') return null;
  try {
    const part = JSON.parse(raw) as { status?: unknown };
    return typeof part.status === 'string' && part.status !== '' ? part.status : null;
  } catch {
    return null;
  }
}

/** Every account of a batch with its current state, by account id, a page at a time. */
export async function* readBatchReportAccounts(
  redis: Redis,
  keys: Keys,
  batchId: string,
  pageSize = 1000,
): AsyncGenerator<BatchReportAccount> {
  const ids = await sortedBatchAccountIds(redis, keys, batchId);
  for (let from = 0; from < ids.length; from += pageSize) {
    const page = ids.slice(from, from + pageSize);
    const pipeline = redis.pipeline();
    pipeline.hmget(keys.batchAccounts(batchId), ...page);
    for (const id of page) {
      pipeline.hget(keys.status(id), S.account);
      pipeline.hkeys(keys.holds(id));
    }
    const replies = ((await pipeline.exec()) ?? []).map(([err, v]) => {
      if (err) throw err;
      return v;
    });
    const undos = await readAccountUndos(redis, keys, batchId, page);
    const events = (replies[0] ?? []) as (string | null)[];
    for (const [i, id] of page.entries()) {
      const value = events[i];
      const holdFields = (replies[2 + 2 * i] ?? []) as string[];
      yield {
        account_id: id,
        event: value ? decodeActionEvent(undefined, value) : undefined,
        status_now: statusOf(replies[1 + 2 * i]),
        held_by: holdFields
          .filter((f) => f.startsWith(HOLD_FIELD))
          .map((f) => f.slice(HOLD_FIELD.length))
          .sort(),
        undo: undos[i] ?? null,
      };
    }
  }
}
