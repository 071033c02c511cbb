/**
 * Enqueue deactivations or activations for a list of accounts (the `deactivate` and
 * `activate` CLI commands), optionally waiting for every one to finish. Manual actions keep
 * the account's `manual` hold (producers/manual.ts): a deactivation takes it, an activation
 * releases it and is not enqueued while other holds keep the account off.
 */
import type { Config } from '../config.js';
import type { Action, IntentState } from '../model.js';
import type { AccountReader } from '../producers/account-states.js';
import { runManual } from '../producers/manual.js';
import type { EnqueueResult } from '../queue/enqueue.js';
import { openProducer } from '../queue/open-producer.js';
import type { WaitProgress } from '../queue/wait.js';
import { keysFor } from '../store/keys.js';
import { openApiReads } from './api-reads.js';

export interface EnqueueActionsOptions {
  action: Action;
  accountIds: readonly string[];
  /** Only with exactly one account id. Default: `<action>-<uuid>` per intent. */
  key?: string;
  reason?: string;
  /** Who asks (model/actor.ts): the CLI user or `--actor`, the admin token's name. */
  actor?: string;
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
    /** To show the user (e.g. the accounts' state before could not be read). */
    warnings: readonly string[],
  ) => void;
  onProgress?: (progress: WaitProgress) => void;
  /**
   * Reads what deactivated accounts are now (their `manual` hold's `before`). Default: the API
   * through the shared rate budget when `config.apiKey` is set, else none: every `before` is
   * then `unknown`, and such an account is never switched back on by another source releasing
   * its last hold (only an explicit `activate` brings it back). Not used by `activate`.
   */
  reader?: AccountReader;
}

export interface ActionReport {
  account_id: string;
  action: Action;
  /** '' when `held` (nothing was enqueued). */
  idempotency_key: string;
  /** '' when `held`. */
  job_id: string;
  /**
   * `enqueued`, `duplicate` (the key was already bound to this same intent), or `held`: an
   * activation not enqueued because other sources still hold the account off (`held_by`).
   */
  enqueue: EnqueueResult['status'] | 'held';
  /** Final state with `wait`, else the state right after enqueueing; `held` as above. */
  state: IntentState | 'new' | 'unknown' | 'held';
  /** The holds that keep the account off (`activate` only; empty unless `held`). */
  held_by: string[];
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
  /** To show the user (e.g. the accounts' state before could not be read). */
  warnings: string[];
}

export async function enqueueActions(
  config: Config,
  options: EnqueueActionsOptions,
): Promise<EnqueueActionsResult> {
  const producer = openProducer(config);
  const keys = keysFor(config.prefix);
  const api =
    options.reader || options.action !== 'deactivate'
      ? undefined
      : openApiReads(config, producer.redis, keys);
  try {
    const run = await runManual(
      { producer, redis: producer.redis, keys, reader: options.reader ?? api?.reader },
      options,
      options.signal,
    );
    const { repeated, warnings } = run;
    const reports: ActionReport[] = run.outcomes.map((o) => {
      const r = o.held ? undefined : o.result;
      return {
        account_id: o.accountId,
        action: o.action,
        idempotency_key: r?.idempotencyKey ?? '',
        job_id: r?.jobId ?? '',
        enqueue: r?.status ?? 'held',
        state: r?.state ?? 'held',
        held_by: o.held ? o.heldBy : [],
        http_status: null,
        error_code: null,
        error_message: null,
        request_id: null,
        account_status: null,
        superseded_by: null,
      };
    });
    const enqueued = reports.filter((r) => r.enqueue !== 'held');
    if (options.onEnqueued) {
      const workers = options.wait
        ? await producer.queue.getWorkersCount().catch(() => undefined)
        : undefined;
      options.onEnqueued(reports, repeated, workers, warnings);
    }
    if (!options.wait || enqueued.length === 0) return { reports, repeated, done: true, warnings };

    const { bindings, done } = await producer.wait(
      enqueued.map((r) => r.idempotency_key),
      { timeoutMs: options.waitTimeoutMs, signal: options.signal, onProgress: options.onProgress },
    );
    for (const r of enqueued) {
      const b = bindings.get(r.idempotency_key);
      r.state = b?.state ?? 'unknown';
      r.http_status = b?.httpStatus ?? null;
      r.error_code = b?.errorCode ?? null;
      r.error_message = b?.errorMessage ?? null;
      r.request_id = b?.requestId ?? null;
      r.account_status = b?.accountStatus ?? null;
      r.superseded_by = b?.supersededBy ?? null;
    }
    return { reports, repeated, done, warnings };
  } finally {
    await api?.close();
    await producer.close();
  }
}
