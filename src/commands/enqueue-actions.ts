/**
 * Enqueue deactivations or activations for a list of accounts (the `deactivate` and
 * `activate` CLI commands), optionally waiting for every one to finish.
 */
import { randomUUID } from 'node:crypto';
import {
  IntentValidationError,
  type Action,
  type IntentInput,
  type Source,
} from '../actions/intent.js';
import { openProducer } from '../actions/open-producer.js';
import type { EnqueueResult } from '../actions/producer.js';
import { waitForIntents, type IntentState, type WaitProgress } from '../actions/wait.js';
import type { Config } from '../config.js';
import { keysFor } from '../keys.js';
import { readStatuses } from '../status/read-status.js';

export interface EnqueueActionsOptions {
  action: Action;
  providerIds: readonly string[];
  /** Only with exactly one provider id. Default: `<action>-<uuid>` per intent. */
  key?: string;
  reason?: string;
  source?: Source;
  sourceRef?: string;
  /** Block until each intent succeeded or failed. */
  wait?: boolean;
  waitTimeoutMs?: number;
  onProgress?: (progress: WaitProgress) => void;
}

export interface ActionReport {
  provider_id: string;
  action: Action;
  idempotency_key: string;
  job_id: string;
  /** `enqueued` or `duplicate` (the key was already bound to this same intent). */
  enqueue: EnqueueResult['status'];
  /** Final state with `wait`, else the state right after enqueueing. */
  state: IntentState | 'new';
  http_status: number | null;
  error_code: string | null;
  error_message: string | null;
}

export async function enqueueActions(
  config: Config,
  options: EnqueueActionsOptions,
): Promise<ActionReport[]> {
  if (options.providerIds.length === 0) {
    throw new IntentValidationError(['provider_id: at least one provider id is required']);
  }
  if (options.key !== undefined && options.providerIds.length !== 1) {
    throw new IntentValidationError([
      `--key: can only be used with exactly one provider id (got ${options.providerIds.length})`,
    ]);
  }
  const intents: IntentInput[] = options.providerIds.map((providerId) => ({
    action: options.action,
    providerId,
    idempotencyKey: options.key ?? `${options.action}-${randomUUID()}`,
    source: options.source ?? 'manual',
    sourceRef: options.sourceRef,
    reason: options.reason ?? '',
  }));
  const producer = openProducer(config);
  try {
    const results = await producer.enqueueMany(intents);
    const reports: ActionReport[] = results.map((r) => ({
      provider_id: r.providerId,
      action: r.action,
      idempotency_key: r.idempotencyKey,
      job_id: r.jobId,
      enqueue: r.status,
      state: r.state,
      http_status: null,
      error_code: null,
      error_message: null,
    }));
    if (!options.wait) return reports;

    const keys = keysFor(config.prefix);
    const { states } = await waitForIntents(
      producer.redis,
      keys,
      reports.map((r) => r.idempotency_key),
      {
        timeoutMs: options.waitTimeoutMs,
        onProgress: options.onProgress,
      },
    );
    const failedIds = reports
      .filter((r) => states.get(r.idempotency_key) === 'failed')
      .map((r) => r.provider_id);
    const statuses = new Map(
      (await readStatuses(producer.redis, keys, failedIds)).map((s) => [s.provider_id, s]),
    );
    for (const r of reports) {
      r.state = states.get(r.idempotency_key) ?? 'unknown';
      const error = r.state === 'failed' ? statuses.get(r.provider_id)?.last_error : undefined;
      if (error) {
        r.http_status = error.http_status;
        r.error_code = error.code;
        r.error_message = error.message;
      }
    }
    return reports;
  } finally {
    await producer.close();
  }
}
