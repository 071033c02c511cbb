/**
 * Enqueue deactivations or activations for a list of accounts (the `deactivate` and
 * `activate` CLI commands), optionally waiting for every one to finish.
 */
import type { Config } from '../config.js';
import type { Action, IntentState } from '../model.js';
import { manualIntents } from '../producers/manual.js';
import { openProducer } from '../queue/open-producer.js';
import type { EnqueueResult } from '../queue/producer.js';
import type { WaitProgress } from '../queue/wait.js';

export interface EnqueueActionsOptions {
  action: Action;
  providerIds: readonly string[];
  /** Only with exactly one provider id. Default: `<action>-<uuid>` per intent. */
  key?: string;
  reason?: string;
  /** Block until each intent is terminal. */
  wait?: boolean;
  waitTimeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Called once everything is enqueued, before waiting (e.g. to print the keys). `workers` is
   * how many workers are connected to the queue (undefined when Redis will not say).
   */
  onEnqueued?: (
    reports: readonly ActionReport[],
    repeated: readonly string[],
    workers: number | undefined,
  ) => void;
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
  state: IntentState | 'new' | 'unknown';
  /** HTTP status of the answer the outcome came from (null until there is one, or if none came). */
  http_status: number | null;
  error_code: string | null;
  error_message: string | null;
  request_id: string | null;
  account_status: string | null;
  superseded_by: string | null;
}

export interface EnqueueActionsResult {
  reports: ActionReport[];
  /** Account ids given more than once (asked for once). */
  repeated: string[];
  /** With `wait`: every intent reached a terminal state before the timeout / abort. */
  done: boolean;
}

export async function enqueueActions(
  config: Config,
  options: EnqueueActionsOptions,
): Promise<EnqueueActionsResult> {
  const { intents, repeated } = manualIntents(options);
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
      request_id: null,
      account_status: null,
      superseded_by: null,
    }));
    if (options.onEnqueued) {
      const workers = options.wait
        ? await producer.queue.getWorkersCount().catch(() => undefined)
        : undefined;
      options.onEnqueued(reports, repeated, workers);
    }
    if (!options.wait) return { reports, repeated, done: true };

    const { bindings, done } = await producer.wait(
      reports.map((r) => r.idempotency_key),
      { timeoutMs: options.waitTimeoutMs, signal: options.signal, onProgress: options.onProgress },
    );
    for (const r of reports) {
      const b = bindings.get(r.idempotency_key);
      r.state = b?.state ?? 'unknown';
      r.http_status = b?.httpStatus ?? null;
      r.error_code = b?.errorCode ?? null;
      r.error_message = b?.errorMessage ?? null;
      r.request_id = b?.requestId ?? null;
      r.account_status = b?.accountStatus ?? null;
      r.superseded_by = b?.supersededBy ?? null;
    }
    return { reports, repeated, done };
  } finally {
    await producer.close();
  }
}
