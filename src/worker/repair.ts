/**
 * Repair intents left `queued` although their job is finished or gone: a failure the backstop
 * could not record (Redis error, crash at that moment), or a job lost before it was added.
 * Each gets its one `action.failed` event, so no key stays silently dead and no `--wait` hangs.
 * Runs when a worker starts; only looks at intents claimed more than `minAgeMs` ago, so a
 * producer between its claim and its addBulk is left alone.
 */
import type { Logger } from '../logger.js';
import { jobIdFor } from '../queue/job-id.js';
import { isUrgentIntent, jobIntent, type ActionQueue } from '../queue/queue.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { readBindings, type Binding } from '../store/binding.js';
import type { Keys } from '../store/keys.js';
import { listPending } from '../store/list-pending.js';
import { recordOutcome, type RecordSettings } from '../store/record-outcome.js';
import { takeRepairTurn } from '../store/repair-turn.js';

export interface RepairDeps {
  redis: Redis;
  queue: ActionQueue;
  /**
   * The urgent queue, where the breaker's intents' jobs are (those queued by a version before
   * it are in `queue`: both are looked in).
   */
  urgentQueue?: ActionQueue;
  keys: Keys;
  config: RecordSettings;
  log: Logger;
  /** @defaultValue 60 s */
  minAgeMs?: number;
  now?: () => number;
}

const BATCH = 200;
/** How long one worker's repair keeps the others from starting their own. */
const REPAIR_TURN_MS = 60_000;

export async function repairStuckBindings(
  deps: RepairDeps,
): Promise<{ checked: number; repaired: number }> {
  const { redis, keys } = deps;
  const now = deps.now ?? Date.now;
  const olderThan = now() - (deps.minAgeMs ?? 60_000);
  let offset = 0;
  let checked = 0;
  let repaired = 0;
  // Several workers starting together: one of them repairs, the others go straight to work.
  const giveBack = await takeRepairTurn(redis, keys, REPAIR_TURN_MS);
  if (!giveBack) return { checked, repaired };
  try {
    for (;;) {
      const page = await listPending(redis, keys, olderThan, { offset, count: BATCH });
      if (page.length === 0) break;
      const bindings = await readBindings(
        redis,
        keys,
        page.map((p) => p.key),
      );
      // The page's checks run side by side: a long backlog costs round trips per page, not per job.
      const outcomes = await Promise.all(
        page.map(({ key }, i) => repairOne(deps, key, bindings[i], now)),
      );
      checked += page.length;
      repaired += outcomes.filter((o) => o === 'repaired').length;
      offset += outcomes.filter((o) => o === 'running').length; // still in line: it stays pending
    }
  } finally {
    await giveBack();
  }
  return { checked, repaired };
}

/** One pending intent: `running` (its job will record), `cleared` or `repaired`. */
async function repairOne(
  deps: RepairDeps,
  key: string,
  binding: Binding | undefined,
  now: () => number,
): Promise<'running' | 'cleared' | 'repaired'> {
  const { redis, keys, config } = deps;
  if (!binding || binding.state !== 'queued') {
    // Terminal already (the pending entry outlived a crash) or gone: nothing to tell.
    await redis.zrem(keys.pending, key);
    return 'cleared';
  }
  const jobId = jobIdFor(key, binding.seq);
  const queues = [deps.queue, ...(deps.urgentQueue ? [deps.urgentQueue] : [])];
  if (isUrgentIntent(binding)) queues.reverse();
  let job = await (queues[0] as ActionQueue).getJob(jobId);
  if (!job && queues[1]) job = await queues[1].getJob(jobId);
  const state = job ? await job.getState() : 'missing';
  if (state !== 'failed' && state !== 'completed' && state !== 'missing') return 'running';
  const reason =
    state === 'missing'
      ? 'no job in the queue for this intent: lost before it ran, or a failed job removed after FAILED_JOB_RETENTION_S'
      : `the job ${state} without recording an outcome${job?.failedReason ? `: ${job.failedReason}` : ''}`;
  const result = await recordOutcome(
    redis,
    keys,
    config,
    {
      intent: job
        ? jobIntent(job.data)
        : {
            action: binding.action,
            accountId: binding.accountId,
            idempotencyKey: key,
            source: binding.source,
            reason: '',
          },
      seq: binding.seq,
      jobId,
      attempts: job?.attemptsMade ?? 0,
      at: new Date(now()),
      outcome: 'failed',
      httpStatus: null,
      errorCode: state === 'missing' ? 'job_lost' : 'outcome_lost',
      errorMessage: reason,
      requestId: null,
    },
    undefined,
  );
  if (result !== 'recorded') return 'cleared';
  deps.log.warn({ idempotency_key: key, job_id: jobId, state }, `repaired: ${reason}`);
  return 'repaired';
}
