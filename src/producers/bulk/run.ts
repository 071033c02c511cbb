/**
 * A bulk run: many accounts, one action, one batch. Makes intents (source `bulk`,
 * `source_ref` = the batch id, key `bulk:<batch>:<account>`) and hands them to the queue in
 * chunks; the batch record (store/batch-record.ts) counts what happens to them.
 *
 * Two passes over the input, neither holding it in memory: the first checks every line (a run
 * with an invalid line enqueues nothing unless `skipInvalid`); the second enqueues. Standard
 * input is copied to a temporary file during the first pass so that it can be read twice.
 *
 * Running the same batch again resumes it: an account already in the batch keeps its key, so
 * its intent is never enqueued twice, and one that has its outcome is left alone for good.
 *
 * Holds (store/holds.ts): a deactivate run takes hold `bulk:<batch>` on each account it adds,
 * before the account's intent is enqueued (one step per chunk), recording with it what the
 * account is now: read once per pass, from the team's listing (or one by one for up to a
 * hundred ids, or from a `--filter` listing's own items). Without the API the hold's base is
 * what the project last recorded (`unknown` if nothing), and `batch undo` then cannot switch
 * such accounts back on (it says so). An activate run leaves out the accounts some source
 * holds off, counted as skipped.
 *
 * This file runs a pass; types.ts, batch-ids.ts, team-view.ts (the API's view before a pass),
 * bounded.ts and dry-run.ts hold the rest, re-exported here.
 */
import { StateConflictError, UsageError } from '../../errors.js';
import { parseIntents, type IntentInput } from '../../model.js';
import {
  addToBatch,
  BATCH_ID_RULE,
  BATCH_ID_RULE_TEXT,
  endBatchPass,
  openBatch,
} from '../../store/batch-record.js';
import { heldAmong } from '../../store/held-among.js';
import { seenOf } from '../../store/hold-record.js';
import { readHolds, takeHolds, type HoldTarget } from '../../store/holds.js';
import { isShared } from './accounts.js';
import { bulkHoldId, bulkKey, newBatchId } from './batch-ids.js';
import { boundedConcurrency } from './bounded.js';
import { checkInput, openInput, PROBLEMS_SHOWN } from './input.js';
import { readTeamView, sharedGuard } from './team-view.js';
import type { BulkDeps, BulkPassCounts, BulkPassResult, BulkRunOptions } from './types.js';

export { bulkHoldId, bulkKey, newBatchId } from './batch-ids.js';
export { dryRunBulk, type DryRunReport } from './dry-run.js';
export type { BulkSource } from './input.js';
export type { BulkDeps, BulkPassCounts, BulkPassResult, BulkRunOptions } from './types.js';

/**
 * Ids per chunk, and chunks of one pass in flight at once (each chunk is four round trips, so
 * several keep Redis busy while Node prepares the next). Measured with `bulk --file` on 100k
 * ids under GNU time: 1 x 1000 took 15.3 s, 2 x 1000 13.1 s, 3 x 500 9.2 s, 4 x 250 8.5 s
 * (an older, slower build); later, interleaved runs of the CLI with its heap policy
 * (cli/heap.ts), median of 5-6 each: 4 x 250 5.45 s, 8 x 250 5.18 s and 133-140 MiB peak RSS,
 * 12 x 250 no faster and 153 MiB.
 */
export const DEFAULT_CHUNK = 250;
const CHUNKS_IN_FLIGHT = 8;

/** Run one pass of a bulk run: check the input, then enqueue what it names. */
export async function runBulkPass(
  deps: BulkDeps,
  options: BulkRunOptions,
): Promise<BulkPassResult> {
  const action = options.action ?? 'deactivate';
  const batchId = options.batchId ?? newBatchId();
  if (!BATCH_ID_RULE.test(batchId)) {
    throw new UsageError(`--batch-id: "${batchId}" ${BATCH_ID_RULE_TEXT}`);
  }
  const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK);
  const input = await openInput(options.source, deps.accounts);
  try {
    const { invalid, problems, valid } = await checkInput(input, options.skipInvalid ?? false);
    const reason = options.reason ?? `bulk run ${batchId}`;
    const actorField = options.actor === undefined ? {} : { actor: options.actor };
    // Checked before anything is written (each intent is checked again when enqueued).
    parseIntents([
      {
        action,
        accountId: 'dprov_check',
        idempotencyKey: bulkKey(batchId, 'dprov_check'),
        source: 'bulk',
        sourceRef: batchId,
        reason,
        ...actorField,
      },
    ]);
    const { shared, seen } =
      action === 'deactivate' && !input.fromApi && (deps.accounts || deps.reader)
        ? await readTeamView(deps, options, input, valid)
        : { shared: await sharedGuard(deps, options), seen: undefined };

    // Pass 2: into the batch, then onto the queue, a chunk at a time.
    const opened = await openBatch(deps.redis, deps.keys, {
      id: batchId,
      action,
      source: input.name,
      reason: options.reason ?? '',
      ...actorField,
    });
    if (!opened.ok) {
      throw new StateConflictError(
        `--batch-id: batch ${batchId} is a ${opened.existingAction} run; it cannot ${action}`,
      );
    }
    const counts: BulkPassCounts = {
      read: 0,
      enqueued: 0,
      resumed: 0,
      alreadyDone: 0,
      duplicates: 0,
      skipped: 0,
      held: 0,
    };
    const skippedIds: string[] = [];
    const hold = {
      id: bulkHoldId(batchId),
      source: 'bulk' as const,
      ref: batchId,
      reason,
      actor: options.actor ?? null,
    };
    let chunk: HoldTarget[] = [];
    // Chunks overlap (the next is read and sent while Redis works on the previous ones): a
    // chunk's ids are all distinct from the others' (repeats are caught per pass in Redis), so
    // the order between chunks does not matter; within one, it is kept.
    const inFlight = boundedConcurrency(CHUNKS_IN_FLIGHT);
    const flush = async (targets: HoldTarget[]) => {
      if (action === 'activate') targets = await leaveOutHeld(targets);
      const ids = targets.map((t) => t.accountId);
      const added = await addToBatch(deps.redis, deps.keys, batchId, opened.pass, ids);
      const intents: IntentInput[] = [];
      const holding: HoldTarget[] = [];
      targets.forEach((target, i) => {
        const { accountId } = target;
        const a = added[i];
        if (a === 'repeat') counts.duplicates++;
        else if (a === 'done') counts.alreadyDone++;
        else {
          holding.push(target);
          intents.push({
            action,
            accountId,
            idempotencyKey: bulkKey(batchId, accountId),
            source: 'bulk',
            sourceRef: batchId,
            reason,
            ...actorField,
          });
        }
      });
      if (intents.length > 0) {
        // The holds first: a crash between leaves holds whose intents a resume enqueues.
        if (action === 'deactivate') await takeHolds(deps.redis, deps.keys, holding, hold);
        const results = await deps.producer.enqueueMany(intents, { chunkSize });
        const heldNow: IntentInput[] = [];
        results.forEach((r, i) => {
          if (r.status === 'enqueued') counts.enqueued++;
          else if (r.status === 'held') heldNow.push(intents[i] as IntentInput);
          else counts.resumed++;
        });
        if (heldNow.length > 0) {
          counts.skipped += heldNow.length;
          counts.held += heldNow.length;
          await endHeld(deps, heldNow);
        }
      }
      options.onChunk?.({ ...counts });
    };
    /** An activate run leaves out the accounts some source still holds off. */
    const leaveOutHeld = async (targets: HoldTarget[]): Promise<HoldTarget[]> => {
      const held = await heldAmong(
        deps.redis,
        deps.keys,
        targets.map((t) => t.accountId),
      );
      const kept: HoldTarget[] = [];
      const named: string[] = [];
      targets.forEach((t, i) => {
        if (!held[i]) {
          kept.push(t);
          return;
        }
        counts.skipped++;
        counts.held++;
        if (skippedIds.length + named.length < PROBLEMS_SHOWN) named.push(t.accountId);
      });
      for (const id of named) {
        const { holds } = await readHolds(deps.redis, deps.keys, id);
        const by = holds.map((h) => h.id).sort();
        if (by.length > 0 && skippedIds.length < PROBLEMS_SHOWN) {
          skippedIds.push(`${id}: held by ${by.join(', ')}`);
        }
      }
      return kept;
    };
    for await (const batch of input.lines()) {
      for (const l of batch) {
        if (l.id === undefined) continue;
        counts.read++;
        if (shared && (l.item ? isShared(l.item) : shared.has(l.id))) {
          counts.skipped++;
          if (skippedIds.length < PROBLEMS_SHOWN) skippedIds.push(`${l.id}: the shared account`);
          continue;
        }
        chunk.push({ accountId: l.id, seen: l.item ? seenOf(l.item) : seen?.get(l.id) });
        if (chunk.length >= chunkSize) {
          await inFlight.add(flush(chunk));
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) await inFlight.add(flush(chunk));
    await inFlight.drain();
    await endBatchPass(deps.redis, deps.keys, batchId, opened.pass, {
      invalid,
      duplicates: counts.duplicates,
      skipped: counts.skipped,
      changed: opened.pass === 1 || counts.enqueued + counts.resumed > 0,
    });
    return {
      batchId,
      action,
      pass: opened.pass,
      invalid,
      problems,
      skippedIds,
      input: input.name,
      ...counts,
    };
  } finally {
    await input.close();
  }
}

/**
 * Activations a hold slipped in on after the run's held check (claim-keys.ts bound nothing):
 * each ends superseded by the hold, which closes the account in the batch. The outcome
 * recorder is loaded only then: a bulk run otherwise loads none, nor prom-client with it.
 */
async function endHeld(deps: BulkDeps, intents: readonly IntentInput[]): Promise<void> {
  const { recordOutcome } = await import('../../store/record-outcome.js');
  for (const intent of intents) {
    await recordOutcome(
      deps.redis,
      deps.keys,
      deps.outcomes,
      {
        intent: { ...intent, reason: intent.reason ?? '' },
        seq: 0,
        jobId: '',
        attempts: 0,
        at: new Date(),
        outcome: 'superseded',
        by: 'hold',
      },
      undefined,
      { bindIfMissing: true },
    );
  }
}
