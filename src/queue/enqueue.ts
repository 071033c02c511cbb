/**
 * The low-level enqueue of action jobs: validate intents, bind their keys (claim-keys), add the
 * BullMQ jobs in chunks. Every producer of src/producers/ (CLI, HTTP API, bulk run, breaker,
 * maintenance scheduler) goes through {@link Producer.enqueueMany}.
 */
import type { Config } from '../config.js';
import { IdempotencyKeyConflictError } from '../errors.js';
import { fingerprint, parseIntents, type Intent, type IntentInput } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { claimKeys, findConflict, type Claim, type ClaimState } from '../store/claim-keys.js';
import { keysFor } from '../store/keys.js';
import { jobIdFor } from './job-id.js';
import {
  createUrgentQueue,
  isUrgentIntent,
  jobOptions,
  type ActionJobData,
  type ActionQueue,
} from './queue.js';

export type ProducerConfig = Pick<
  Config,
  'prefix' | 'maxAttempts' | 'keepCompletedJobs' | 'failedJobRetentionS' | 'keepFailedJobs'
>;

export interface EnqueueResult {
  jobId: string;
  idempotencyKey: string;
  accountId: string;
  action: Intent['action'];
  /**
   * `enqueued`: a new job; `duplicate`: the key was already bound to this same intent; `held`:
   * an activation not enqueued because the account has a hold (nothing was bound).
   */
  status: 'enqueued' | 'duplicate' | 'held';
  /** State of the idempotency record before this call (`new` for fresh keys). */
  state: ClaimState;
}

export interface EnqueueOptions {
  /** Intents per Redis round trip (claim + addBulk). @defaultValue 500 */
  chunkSize?: number;
  /**
   * Put the jobs at the head of the queue, ahead of any backlog (a window's start must not wait
   * behind a bulk run). The breaker's intents need no option: they always go to the urgent
   * queue ({@link isUrgentIntent}). @defaultValue false
   */
  urgent?: boolean;
}

export interface Producer {
  /** Enqueue one intent. Throws IntentValidationError or IdempotencyKeyConflictError. */
  enqueue(intent: IntentInput): Promise<EnqueueResult>;
  /**
   * Validate every intent first, check every key for conflicts, then enqueue in chunks.
   * If any intent is invalid or any key is bound to another intent, nothing is enqueued.
   */
  enqueueMany(intents: readonly IntentInput[], options?: EnqueueOptions): Promise<EnqueueResult[]>;
}

export function createProducer(deps: {
  redis: Redis;
  queue: ActionQueue;
  /**
   * Where urgent intents go (queue.ts, createUrgentQueue); made on `queue`'s connection when
   * first needed if not given (the caller then leaves it to that connection).
   */
  urgentQueue?: ActionQueue;
  config: ProducerConfig;
}): Producer {
  const { redis, queue, config } = deps;
  const keys = keysFor(config.prefix);
  let urgentQueue = deps.urgentQueue;
  const urgentJobs = () => (urgentQueue ??= createUrgentQueue(config, queue.opts.connection));

  async function enqueueMany(inputs: readonly IntentInput[], options: EnqueueOptions = {}) {
    const intents = parseIntents(inputs);
    // Collapse repeats of one key inside the batch; refuse one key used for two intents.
    // `entryOf[i]` is the index in `claims` of intent i's key.
    const indexOfKey = new Map<string, number>();
    const claims: Claim[] = [];
    const unique: Intent[] = [];
    const entryOf = new Array<number>(intents.length);
    for (let i = 0; i < intents.length; i++) {
      const intent = intents[i] as Intent;
      const print = fingerprint(intent);
      const seen = indexOfKey.get(intent.idempotencyKey);
      if (seen !== undefined) {
        const earlier = (claims[seen] as Claim).fingerprint;
        if (earlier !== print) {
          throw new IdempotencyKeyConflictError(intent.idempotencyKey, earlier, print);
        }
        entryOf[i] = seen;
        continue;
      }
      entryOf[i] = claims.length;
      indexOfKey.set(intent.idempotencyKey, claims.length);
      claims.push({
        key: intent.idempotencyKey,
        fingerprint: print,
        action: intent.action,
        accountId: intent.accountId,
        source: intent.source,
      });
      unique.push(intent);
    }
    const chunkSize = Math.max(1, options.chunkSize ?? 500);
    // Across chunks, a conflict in a later one must stop the earlier ones: check them all
    // first. One chunk is all-or-nothing by itself (the claim script checks before it writes).
    if (claims.length > chunkSize) {
      const conflict = await findConflict(redis, keys, claims);
      if (conflict) {
        throw new IdempotencyKeyConflictError(conflict.key, conflict.existing, conflict.requested);
      }
    }

    const results: EnqueueResult[] = [];
    for (let from = 0; from < claims.length; from += chunkSize) {
      const to = Math.min(from + chunkSize, claims.length);
      const claimed = await claimKeys(redis, keys, claims.slice(from, to));
      if (!claimed.ok) {
        // Only possible if another producer bound a key between the check and the claim.
        const c = claimed.conflict;
        throw new IdempotencyKeyConflictError(c.key, c.existing, c.requested);
      }
      // New bindings get their job. Queued ones are added again, which is a no-op while
      // BullMQ has the job and restores it if it was lost before being added. Finished
      // intents are not run again (their binding lives IDEMPOTENCY_TTL_S after the outcome).
      const jobs: Parameters<ActionQueue['addBulk']>[0] = [];
      const urgent: Parameters<ActionQueue['addBulk']>[0] = [];
      for (let i = from; i < to; i++) {
        const intent = unique[i] as Intent;
        const { state, seq } = claimed.claimed[i - from] ?? { state: 'new' as const, seq: 0 };
        const jobId = jobIdFor(intent.idempotencyKey, seq);
        if (state === 'new' || state === 'queued') {
          (isUrgentIntent(intent) ? urgent : jobs).push({
            name: intent.action,
            data: jobData(intent, seq),
            opts: options.urgent
              ? { ...jobOptions(config, jobId), lifo: true }
              : jobOptions(config, jobId),
          });
        }
        results.push({
          jobId,
          idempotencyKey: intent.idempotencyKey,
          accountId: intent.accountId,
          action: intent.action,
          status: state === 'new' ? 'enqueued' : state === 'held' ? 'held' : 'duplicate',
          state,
        });
      }
      if (jobs.length > 0) await queue.addBulk(jobs);
      if (urgent.length > 0) await urgentJobs().addBulk(urgent);
    }
    // One result per intent in, in order (a repeated key shares its first intent's result).
    return entryOf.map((e) => results[e] as EnqueueResult);
  }

  return {
    enqueueMany,
    async enqueue(intent) {
      const [result] = await enqueueMany([intent]);
      if (!result) throw new Error('unreachable: one intent in, one result out');
      return result;
    },
  };
}

/** A job's data: the intent's fields (one shape for every job, cheaper than a spread) and seq. */
function jobData(intent: Intent, seq: number): ActionJobData {
  const data: ActionJobData = {
    action: intent.action,
    accountId: intent.accountId,
    idempotencyKey: intent.idempotencyKey,
    source: intent.source,
    reason: intent.reason,
    seq,
  };
  if (intent.sourceRef !== undefined) data.sourceRef = intent.sourceRef;
  if (intent.actor !== undefined) data.actor = intent.actor;
  return data;
}
