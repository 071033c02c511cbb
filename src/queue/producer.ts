/**
 * Producers turn intents into jobs. Every producer (CLI, HTTP API, bulk run, breaker,
 * maintenance scheduler) goes through {@link Producer.enqueueMany}.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { IdempotencyKeyConflictError } from '../errors.js';
import { fingerprint, parseIntents, type Intent, type IntentInput } from '../model.js';
import { claimKeys, findConflict, type Claim, type ClaimState } from '../store/claim-keys.js';
import { keysFor } from '../store/keys.js';
import { jobIdFor } from './job-id.js';
import { jobOptions, type ActionQueue } from './queue.js';

export type ProducerConfig = Pick<Config, 'prefix' | 'maxAttempts' | 'keepCompletedJobs'>;

export interface EnqueueResult {
  jobId: string;
  idempotencyKey: string;
  providerId: string;
  action: Intent['action'];
  /** `enqueued`: a new job; `duplicate`: the key was already bound to this same intent. */
  status: 'enqueued' | 'duplicate';
  /** State of the idempotency record before this call (`new` for fresh keys). */
  state: ClaimState;
}

export interface EnqueueOptions {
  /** Intents per Redis round trip (claim + addBulk). @defaultValue 500 */
  chunkSize?: number;
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
  config: ProducerConfig;
}): Producer {
  const { redis, queue, config } = deps;
  const keys = keysFor(config.prefix);

  async function enqueueMany(inputs: readonly IntentInput[], options: EnqueueOptions = {}) {
    const intents = parseIntents(inputs);
    // Collapse repeats of one key inside the batch; refuse one key used for two intents.
    const unique = new Map<string, { intent: Intent; claim: Claim }>();
    for (const intent of intents) {
      const claim: Claim = {
        key: intent.idempotencyKey,
        fingerprint: fingerprint(intent),
        action: intent.action,
        providerId: intent.providerId,
        source: intent.source,
      };
      const seen = unique.get(claim.key);
      if (seen && seen.claim.fingerprint !== claim.fingerprint) {
        throw new IdempotencyKeyConflictError(claim.key, seen.claim.fingerprint, claim.fingerprint);
      }
      if (!seen) unique.set(claim.key, { intent, claim });
    }
    const entries = [...unique.values()];
    const chunkSize = Math.max(1, options.chunkSize ?? 500);
    // Across chunks, a conflict in a later one must stop the earlier ones: check them all
    // first. One chunk is all-or-nothing by itself (the claim script checks before it writes).
    if (entries.length > chunkSize) {
      const conflict = await findConflict(
        redis,
        keys,
        entries.map((e) => e.claim),
      );
      if (conflict) {
        throw new IdempotencyKeyConflictError(conflict.key, conflict.existing, conflict.requested);
      }
    }

    const byKey = new Map<string, EnqueueResult>();
    const enqueuedAt = new Date().toISOString();
    for (let i = 0; i < entries.length; i += chunkSize) {
      const chunk = entries.slice(i, i + chunkSize);
      const claimed = await claimKeys(
        redis,
        keys,
        chunk.map((e) => e.claim),
      );
      if (!claimed.ok) {
        // Only possible if another producer bound a key between the check and the claim.
        const c = claimed.conflict;
        throw new IdempotencyKeyConflictError(c.key, c.existing, c.requested);
      }
      const jobs = chunk.map(({ intent }, j) => {
        const { state, seq } = claimed.claimed[j] ?? { state: 'new' as const, seq: 0 };
        return { intent, state, seq, jobId: jobIdFor(intent.idempotencyKey, seq) };
      });
      // New bindings get their job. Queued ones are added again, which is a no-op while
      // BullMQ has the job and restores it if it was lost before being added. Finished
      // intents are not run again (their binding lives IDEMPOTENCY_TTL_S after the outcome).
      const toAdd = jobs.filter((j) => j.state === 'new' || j.state === 'queued');
      if (toAdd.length > 0) {
        await queue.addBulk(
          toAdd.map(({ intent, seq, jobId }) => ({
            name: intent.action,
            data: { ...intent, seq, enqueuedAt },
            opts: jobOptions(config, jobId),
          })),
        );
      }
      for (const { intent, state, jobId } of jobs) {
        byKey.set(intent.idempotencyKey, {
          jobId,
          idempotencyKey: intent.idempotencyKey,
          providerId: intent.providerId,
          action: intent.action,
          status: state === 'new' ? 'enqueued' : 'duplicate',
          state,
        });
      }
    }
    return intents.map((intent) => {
      const r = byKey.get(intent.idempotencyKey);
      if (!r) throw new Error('unreachable: every key was claimed');
      return r;
    });
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
