/**
 * `batch undo`: switch back on what a deactivate bulk run switched off and nothing else holds
 * off (its hold released; an activation where it was the last and the base is `active`), and
 * optionally wait for the activations. A library function for the CLI and the HTTP API.
 */
import type { Config } from '../config.js';
import { StateConflictError } from '../errors.js';
import { bulkHoldId } from '../producers/bulk/run.js';
import { openProducer } from '../queue/open-producer.js';
import type { WaitProgress } from '../queue/wait.js';
import { readBatchAccounts, type BatchAccount } from '../store/batch-read.js';
import { beginUndo, endUndo, markUndoResults } from '../store/batch-undo-record.js';
import { releaseHolds, type BeforeState } from '../store/holds.js';
import { keysFor } from '../store/keys.js';
import { enqueueBound, undoKey } from './batch-activations.js';
import { cancelRest } from './batch-cancel.js';
import { checkBatchId, mustRead, type BatchReportRow } from './bulk.js';

/** What `batch undo` did with one account of the batch. */
export type UndoAccountResult =
  /**
   * Its hold was the last and its base is `active`: activation enqueued (the run switched it
   * off, or another source did while the run held it).
   */
  | 'reactivated'
  /** Its hold released, other holds (breaker, window, another run, manual) keep it off. */
  | 'still_held'
  /** Its hold was the last, but it was not active before the first hold (inactive, or unknown). */
  | 'was_inactive'
  /** The run's deactivation did not succeed (failed, superseded, cancelled) or has no outcome yet. */
  | 'not_switched_off'
  /** The run's hold was already gone (an earlier undo): nothing to do. */
  | 'already_undone';

export interface UndoAccount {
  account_id: string;
  result: UndoAccountResult;
  /** The run's deactivation: its outcome, or `queued` while it has none (its hold is kept). */
  outcome: BatchReportRow['outcome'];
  /** What the account was before its first hold; null where the run's hold was not there. */
  before: BeforeState | null;
  /** The holds that keep it off (`still_held`; for `already_undone`, whatever holds it has). */
  held_by: string[];
  /** The activation's idempotency key (`reactivated` only). */
  idempotency_key: string | null;
}

/** Accounts listed one by one in an undo's result; the counts cover all of them. */
export const UNDO_ACCOUNTS_SHOWN = 1000;

export interface UndoResult {
  batch_id: string;
  /** Activations enqueued. */
  reactivated: number;
  still_held: number;
  was_inactive: number;
  not_switched_off: number;
  /** Of `not_switched_off`: deactivations still running (their holds are kept: undo again). */
  still_queued: number;
  already_undone: number;
  /** With `force` on a batch not finished: intents cancelled before the undo. */
  cancelled_first: number;
  /** The first {@link UNDO_ACCOUNTS_SHOWN} accounts (in no particular order). */
  accounts: UndoAccount[];
  /** More accounts than listed. */
  accounts_truncated: boolean;
  /** With `wait`: what became of the activations (null without `wait`). */
  activations: WaitProgress | null;
  /** With `wait`: every activation has its outcome. */
  done: boolean;
}

export interface UndoOptions {
  /**
   * Undo a batch that is not finished: what is still queued is cancelled first (as `batch
   * cancel` does); deactivations already running keep their hold (undo again once they end).
   */
  force?: boolean;
  /** Wait for the activations. */
  wait?: boolean;
  waitTimeoutMs?: number;
  signal?: AbortSignal;
  /** Once everything is enqueued and released, before waiting. */
  onUndone?: (result: UndoResult, workers: number | undefined) => void;
  onProgress?: (progress: WaitProgress) => void;
  /** How often `wait` reads the activations. @defaultValue 500 */
  pollMs?: number;
  /** Who asks (the CLI user or `--actor`, the admin token's name): kept in the batch's record. */
  actor?: string;
}

/** Accounts of a batch undone per step (one holds read, enqueue and release each). */
const UNDO_PAGE = 500;

/**
 * Undo a deactivate batch: release its hold (`bulk:<batch>`) on every account, and enqueue an
 * activation (source `bulk`, key `bulk:<batch>:<account>:undo`) where that hold was the last
 * one and the account's base is `active`: the accounts the run switched off (outcome
 * succeeded), and those another source switched off while the run held them (the run's own
 * deactivation superseded, say), not those known to be on. Reads the batch a page at a time. Safe to run again: a second undo
 * finds the holds gone and enqueues nothing (the keys are the same anyway).
 *
 * Refused (UsageError) for an activate batch, and for a batch that is not finished unless
 * `force`. Accounts whose base is `unknown` (never read, nothing recorded) are left off.
 *
 * Per page, one step releases the holds and binds the activations (store/holds.ts), then the
 * jobs are added. A crash between the two leaves the activations bound: the next undo finds
 * the holds gone and adds their jobs. A hold another source takes at the same moment either
 * comes first (the release is not the last: no activation) or after (it sees the activation
 * pending and switches the account off again after it).
 */
export async function undoBatch(
  config: Config,
  batchId: string,
  options: UndoOptions = {},
): Promise<UndoResult> {
  checkBatchId(batchId);
  const producer = openProducer(config);
  const { redis, queue } = producer;
  const keys = keysFor(config.prefix);
  const actor = options.actor ?? 'unknown';
  try {
    const batch = await mustRead(redis, keys, batchId);
    if (batch.action !== 'deactivate') {
      throw new StateConflictError(
        `batch ${batchId} is an ${batch.action} run: only a deactivate run can be undone (undo switches back on what a run switched off)`,
      );
    }
    const result: UndoResult = {
      batch_id: batchId,
      reactivated: 0,
      still_held: 0,
      was_inactive: 0,
      not_switched_off: 0,
      still_queued: 0,
      already_undone: 0,
      cancelled_first: 0,
      accounts: [],
      accounts_truncated: false,
      activations: null,
      done: true,
    };
    if (batch.finished_at === null) {
      if (!options.force) {
        throw new StateConflictError(
          `batch ${batchId} is not finished (${batch.queued} of ${batch.total} accounts without an outcome${batch.enqueue_done ? '' : '; an enqueueing pass is under way or was interrupted'}): undoing it now would let the rest switch off afterwards. Wait for it (batch status ${batchId}), or use --force to cancel what is still queued first`,
        );
      }
      result.cancelled_first = (
        await cancelRest(redis, queue, producer, keys, config, batch, actor)
      ).cancelled;
    }
    await beginUndo(redis, keys, batchId, actor);

    const holdId = bulkHoldId(batchId);
    const reason = `undo of bulk run ${batchId}`;
    const activationKeys: string[] = [];
    const undoPage = async (page: BatchAccount[]) => {
      // Every account with an outcome lets go of the run's hold (one still running keeps it);
      // where the run switched it off and that was the last hold on an account whose base is
      // `active`, the same step binds its activation (store/holds.ts), so a hold taken at that
      // moment either comes first (no activation) or sees it pending (switched off after it).
      const releasing = page.filter((a) => a.event);
      const switchedOff = new Set(
        releasing.filter((a) => a.event?.type === 'action.succeeded').map((a) => a.account_id),
      );
      const released = new Map(
        (
          await releaseHolds(
            redis,
            keys,
            releasing.map((a) => a.account_id),
            holdId,
            // What the run did not switch off itself comes back on only if the account is not
            // known to be on (another source switched it off while the run held it).
            (id) => ({
              key: undoKey(batchId, id),
              source: 'bulk',
              mode: switchedOff.has(id) ? 'base' : 'base-if-off',
            }),
          )
        ).map((r, i) => [releasing[i]?.account_id ?? '', r] as const),
      );
      const rows: UndoAccount[] = page.map(({ account_id, event }) => {
        const outcome = event
          ? (event.type.slice('action.'.length) as BatchReportRow['outcome'])
          : 'queued';
        const row: UndoAccount = {
          account_id,
          result: 'not_switched_off',
          outcome,
          before: null,
          held_by: [],
          idempotency_key: null,
        };
        const r = released.get(account_id);
        if (r?.activation && r.result.released && r.result.last) {
          return {
            ...row,
            result: 'reactivated',
            before: r.result.before,
            idempotency_key: r.activation.key,
          };
        }
        if (!r || !switchedOff.has(account_id)) return row;
        if (!r.result.released) return { ...row, result: 'already_undone', held_by: r.heldBy };
        if (!r.result.last) return { ...row, result: 'still_held', held_by: r.result.heldBy };
        row.before = r.result.before;
        if (!r.activation) return { ...row, result: 'was_inactive' };
        return { ...row, result: 'reactivated', idempotency_key: r.activation.key };
      });
      // The activations bound above, and any an earlier undo killed before its enqueue left.
      const enqueued = await enqueueBound(
        { producer, redis, keys },
        rows
          .filter((r) => r.result === 'reactivated' || r.result === 'already_undone')
          .map((r) => r.account_id),
        (id) => undoKey(batchId, id),
        batchId,
        reason,
        actor,
      );
      for (const row of rows) {
        if (row.result === 'already_undone' && enqueued.has(row.account_id)) {
          row.idempotency_key = undoKey(batchId, row.account_id);
        }
      }
      // Into the batch's record: an account whose activation an earlier, killed undo bound and
      // this one enqueued counts as reactivated (batch-undo-record.ts keeps earlier results).
      await markUndoResults(
        redis,
        keys,
        batchId,
        rows.map((r) => [
          r.account_id,
          r.result === 'already_undone' && r.idempotency_key ? 'reactivated' : r.result,
        ]),
      );
      for (const row of rows) {
        result[row.result]++;
        if (row.outcome === 'queued') result.still_queued++;
        if (row.idempotency_key) activationKeys.push(row.idempotency_key);
        if (result.accounts.length < UNDO_ACCOUNTS_SHOWN) result.accounts.push(row);
        else result.accounts_truncated = true;
      }
    };
    let page: BatchAccount[] = [];
    for await (const account of readBatchAccounts(redis, keys, batchId)) {
      page.push(account);
      if (page.length >= UNDO_PAGE) {
        await undoPage(page);
        page = [];
      }
    }
    if (page.length > 0) await undoPage(page);
    await endUndo(redis, keys, batchId);

    if (options.onUndone) {
      const workers =
        options.wait && activationKeys.length > 0
          ? await queue.getWorkersCount().catch(() => undefined)
          : undefined;
      options.onUndone(result, workers);
    }
    if (!options.wait) return result;
    const { bindings, done } = await producer.wait(activationKeys, {
      timeoutMs: options.waitTimeoutMs,
      signal: options.signal,
      onProgress: options.onProgress,
      pollMs: options.pollMs ?? 500,
    });
    const activations: WaitProgress = {
      total: activationKeys.length,
      succeeded: 0,
      failed: 0,
      superseded: 0,
      cancelled: 0,
    };
    for (const b of bindings.values()) {
      if (b && b.state !== 'queued') activations[b.state]++;
    }
    return { ...result, activations, done };
  } finally {
    await producer.close();
  }
}
