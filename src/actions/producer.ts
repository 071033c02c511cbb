/**
 * Producers turn intents into jobs. Every producer (CLI, HTTP API, bulk run, breaker,
 * maintenance scheduler) goes through {@link Producer.enqueueMany}.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { keysFor } from '../keys.js';
import { claimKeys, findConflict, type Claim, type ClaimState } from './claim-keys.js';
import {
  fingerprint,
  IdempotencyKeyConflictError,
  parseIntents,
  type Intent,
  type IntentInput,
} from './intent.js';
import { jobIdForKey } from './job-id.js';
import { jobOptions, type ActionQueue } from './queue.js';

export type ProducerConfig = Pick<
  Config,
  'prefix' | 'idempotencyTtlS' | 'maxAttempts' | 'keepCompletedJobs'
>;

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
      const fp = fingerprint(intent);
      const seen = unique.get(intent.idempotencyKey);
      if (seen && seen.claim.fingerprint !== fp) {
        throw new IdempotencyKeyConflictError(intent.idempotencyKey, seen.claim.fingerprint, fp);
      }
      if (!seen) {
        const claim = {
          key: intent.idempotencyKey,
          fingerprint: fp,
          jobId: jobIdForKey(intent.idempotencyKey),
        };
        unique.set(intent.idempotencyKey, { intent, claim });
      }
    }
    const entries = [...unique.values()];
    const conflict = await findConflict(
      redis,
      keys,
      entries.map((e) => e.claim),
    );
    if (conflict)
      throw new IdempotencyKeyConflictError(conflict.key, conflict.existing, conflict.requested);

    const byKey = new Map<string, EnqueueResult>();
    const chunkSize = Math.max(1, options.chunkSize ?? 500);
    const enqueuedAt = new Date().toISOString();
    for (let i = 0; i < entries.length; i += chunkSize) {
      const chunk = entries.slice(i, i + chunkSize);
      const claimed = await claimKeys(
        redis,
        keys,
        config.idempotencyTtlS,
        chunk.map((e) => e.claim),
      );
      if (!claimed.ok) {
        // Only possible if another producer bound a key between the check and the claim.
        const c = claimed.conflict;
        throw new IdempotencyKeyConflictError(c.key, c.existing, c.requested);
      }
      const toAdd = chunk.filter((_, j) => {
        const state = claimed.states[j];
        // Finished intents are not run again; queued ones are re-added, which is a no-op
        // while BullMQ still has the job and restores it if it was lost before being added.
        return state === 'new' || state === 'queued';
      });
      if (toAdd.length > 0) {
        await queue.addBulk(
          toAdd.map(({ intent, claim }) => ({
            name: intent.action,
            data: { ...intent, enqueuedAt },
            opts: jobOptions(config, claim.jobId),
          })),
        );
      }
      chunk.forEach(({ intent, claim }, j) => {
        const state = claimed.states[j] ?? 'new';
        byKey.set(intent.idempotencyKey, {
          jobId: claim.jobId,
          idempotencyKey: intent.idempotencyKey,
          providerId: intent.providerId,
          action: intent.action,
          status: state === 'new' ? 'enqueued' : 'duplicate',
          state,
        });
      });
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
