/**
 * `batch cancel`: what of a bulk run has not started ends `cancelled` (its job removed), and a
 * deactivate run's hold is released where the intent was cancelled. A library function for the
 * CLI and the HTTP API; apart from ops/bulk.ts, so a bulk run loads no outcome recorder.
 */
import type { Config } from '../config.js';
import { bulkHoldId, bulkKey } from '../producers/bulk/run.js';
import { createProducer, type Producer } from '../queue/enqueue.js';
import { jobIdFor } from '../queue/job-id.js';
import { createActionQueue, jobIntent, type ActionQueue } from '../queue/queue.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { createRedis } from '../redis/connect.js';
import { readBatchAccounts } from '../store/batch-read.js';
import { markBatchCancelled, type BatchRecord } from '../store/batch-record.js';
import { readBindings, type Binding } from '../store/binding.js';
import { releaseHolds } from '../store/holds.js';
import { keysFor, type Keys } from '../store/keys.js';
import { recordOutcome, type Cancelled } from '../store/record-outcome.js';
import { cancelKey, enqueueBound } from './batch-activations.js';
import { checkBatchId, mustRead } from './bulk.js';

export interface CancelResult {
  batch_id: string;
  /** Jobs not started yet, removed from the queue: their intents ended `cancelled`. */
  cancelled: number;
  /** Running when asked (their job is locked by a worker): they finish. */
  running: number;
  /** Already had their outcome. */
  already_done: number;
}

/** Accounts cancelled side by side (each: a job lookup, a removal, an outcome). */
const CANCEL_CONCURRENCY = 50;

/**
 * Cancel what is left of a batch: every job not started yet is removed from the queue and its
 * intent ends `cancelled` (one `action.cancelled` event each, never a call); running ones
 * finish. A deactivate batch's hold (`bulk:<batch>`) is released on every account whose intent
 * ended cancelled; where that was the last hold, the base is `active` and the account is not
 * known to be on (another source switched it off while the run held it), the release binds
 * its activation (key `bulk:<batch>:<account>:cancel`). Throws a UsageError if there is no
 * such batch. `actor` (who asks) is kept as the batch's `cancelled_by`, with `cancelled_at`
 * (the first cancel's).
 */
export async function cancelBatch(
  config: Config,
  batchId: string,
  actor = 'unknown',
): Promise<CancelResult> {
  checkBatchId(batchId);
  const redis = createRedis(config, { maxRetriesPerRequest: 3 });
  const queue = createActionQueue(config, redis);
  queue.on('error', () => undefined);
  const keys = keysFor(config.prefix);
  try {
    const batch = await mustRead(redis, keys, batchId);
    const producer = createProducer({ redis, queue, config });
    return await cancelRest(redis, queue, producer, keys, config, batch, actor);
  } finally {
    await queue.close();
    await redis.quit();
  }
}

/**
 * Cancel what is left of `batch` (the body of {@link cancelBatch}; `batch undo --force` runs it
 * first): marks it cancelled, then ends every intent not started.
 */
export async function cancelRest(
  redis: Redis,
  queue: ActionQueue,
  producer: Producer,
  keys: Keys,
  config: Config,
  batch: BatchRecord,
  actor: string,
): Promise<CancelResult> {
  const batchId = batch.batch_id;
  const result: CancelResult = { batch_id: batchId, cancelled: 0, running: 0, already_done: 0 };
  await markBatchCancelled(redis, keys, batchId, actor);
  let page: string[] = [];
  // Accounts whose intent ended cancelled, by this call or an earlier one (a cancel killed
  // between the outcome and the release is made good by the next): their hold goes.
  let release: string[] = [];
  const releasePage = async () => {
    const ids = release;
    release = [];
    if (batch.action !== 'deactivate') return;
    // Where the run's was the last hold and the account's base is `active` but it is not known
    // to be on (another source switched it off while the run held it), the release binds its
    // activation (store/holds.ts); one a killed cancel bound is found queued and enqueued.
    await releaseHolds(redis, keys, ids, bulkHoldId(batchId), (id) => ({
      key: cancelKey(batchId, id),
      source: 'bulk',
      mode: 'base-if-off',
    }));
    await enqueueBound(
      { producer, redis, keys },
      ids,
      (id) => cancelKey(batchId, id),
      batchId,
      `bulk run ${batchId} cancelled: its hold was the last`,
      actor,
    );
  };
  const cancelPage = async () => {
    const ids = page;
    page = [];
    const bindings = await readBindings(
      redis,
      keys,
      ids.map((id) => bulkKey(batchId, id)),
    );
    const outcomes = await Promise.all(
      ids.map((id, i) => cancelOne(redis, queue, keys, config, batch, id, bindings[i])),
    );
    outcomes.forEach((o, i) => {
      result[o]++;
      if (o === 'cancelled') release.push(ids[i] ?? '');
    });
    if (release.length >= CANCEL_CONCURRENCY) await releasePage();
  };
  for await (const { account_id, event } of readBatchAccounts(redis, keys, batchId)) {
    if (event) {
      result.already_done++;
      if (event.type === 'action.cancelled') release.push(account_id);
      if (release.length >= CANCEL_CONCURRENCY) await releasePage();
      continue;
    }
    page.push(account_id);
    if (page.length >= CANCEL_CONCURRENCY) await cancelPage();
  }
  if (page.length > 0) await cancelPage();
  if (release.length > 0) await releasePage();
  return result;
}

async function cancelOne(
  redis: Redis,
  queue: ActionQueue,
  keys: Keys,
  config: Config,
  batch: BatchRecord,
  accountId: string,
  binding: Binding | undefined,
): Promise<'cancelled' | 'running' | 'already_done'> {
  const key = bulkKey(batch.batch_id, accountId);
  if (!binding) {
    // Added to the batch, never bound (a pass killed between the two): nothing to run. The key
    // is bound straight to `cancelled` in the step that closes the account in the batch, so a
    // pass resuming at this moment finds it terminal and enqueues nothing.
    const cancelled: Cancelled = {
      intent: {
        action: batch.action,
        accountId,
        idempotencyKey: key,
        source: 'bulk',
        sourceRef: batch.batch_id,
        reason: '',
      },
      seq: 0,
      jobId: '',
      attempts: 0,
      at: new Date(),
      outcome: 'cancelled',
    };
    const recorded = await recordOutcome(redis, keys, config, cancelled, undefined, {
      bindIfMissing: true,
    });
    if (recorded === 'recorded') return 'cancelled';
    if (recorded !== 'stale') return 'already_done';
    // A resuming pass bound the key between our read and now: cancel its intent instead.
    const [bound] = await readBindings(redis, keys, [key]);
    if (!bound) return 'already_done';
    binding = bound;
  }
  return cancelQueued(redis, queue, keys, config, key, binding, batch.batch_id);
}

/**
 * Cancel one bound intent whose job has not started: its job is removed from the queue and it
 * ends `cancelled`. A job a worker holds is running (BullMQ refuses to remove it): it finishes.
 */
async function cancelQueued(
  redis: Redis,
  queue: ActionQueue,
  keys: Keys,
  config: Config,
  key: string,
  binding: Binding,
  batchId: string,
): Promise<'cancelled' | 'running' | 'already_done'> {
  if (binding.state !== 'queued') return 'already_done';
  const jobId = jobIdFor(key, binding.seq);
  const job = await queue.getJob(jobId);
  if (job) {
    try {
      await job.remove();
    } catch {
      return 'running';
    }
  }
  const cancelled: Cancelled = {
    intent: job
      ? jobIntent(job.data)
      : {
          action: binding.action,
          accountId: binding.accountId,
          idempotencyKey: key,
          source: 'bulk',
          sourceRef: batchId,
          reason: '',
        },
    seq: binding.seq,
    jobId,
    attempts: job?.attemptsMade ?? 0,
    at: new Date(),
    outcome: 'cancelled',
  };
  const recorded = await recordOutcome(redis, keys, config, cancelled, undefined);
  return recorded === 'recorded' ? 'cancelled' : 'already_done';
}
