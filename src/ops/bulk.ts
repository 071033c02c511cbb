/**
 * Bulk runs as library functions (the `bulk` and `batch` CLI commands, and later the HTTP API):
 * start or resume one, wait for it, read its record, list them, report on every account.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { UsageError } from '../errors.js';
import { budgetedLister, type AccountLister } from '../producers/bulk/accounts.js';
import {
  bulkKey,
  dryRunBulk as dryRunPass,
  runBulkPass,
  type BulkPassCounts,
  type BulkPassResult,
  type BulkRunOptions,
  type DryRunReport,
} from '../producers/bulk/run.js';
import { jobIdFor } from '../queue/job-id.js';
import { openProducer } from '../queue/open-producer.js';
import { createActionQueue, type ActionQueue } from '../queue/queue.js';
import { createRedis } from '../redis.js';
import type { SendmuxClient } from '../sendmux/client.js';
import {
  BATCH_ID_RULE,
  BATCH_ID_RULE_TEXT,
  closeBatchAccount,
  markBatchCancelled,
  listBatches as listBatchRecords,
  readBatch,
  readBatchAccounts,
  type BatchRecord,
} from '../store/batch-record.js';
import { readBindings, type Binding } from '../store/binding.js';
import { keysFor, type Keys } from '../store/keys.js';
import { outcomeEvent, recordOutcome, type Cancelled } from '../store/record-outcome.js';
import { limiterFor } from '../worker/backoff.js';

export interface StartBulkRunOptions extends BulkRunOptions {
  /** Block until every account of the batch has its outcome. */
  wait?: boolean;
  waitTimeoutMs?: number;
  signal?: AbortSignal;
  /** Once everything is enqueued, before waiting; `workers`: workers connected to the queue. */
  onEnqueued?: (pass: BulkPassResult, workers: number | undefined) => void;
  onProgress?: (batch: BatchRecord) => void;
  /** How often `wait` reads the batch. @defaultValue 500 */
  pollMs?: number;
}

export interface BulkRunResult {
  pass: BulkPassResult;
  /** The batch as last read (after waiting, with `wait`). */
  batch: BatchRecord;
  /** With `wait`: every account has its outcome. */
  done: boolean;
}

/** Start a bulk run, or resume one (same `batchId`); optionally wait for it to finish. */
export async function startBulkRun(
  config: Config,
  options: StartBulkRunOptions,
): Promise<BulkRunResult> {
  const producer = openProducer(config);
  const keys = keysFor(config.prefix);
  const api = openAccounts(config, producer.redis, keys);
  try {
    const pass = await runBulkPass(
      { producer, redis: producer.redis, keys, accounts: api?.lister },
      options,
    );
    if (options.onEnqueued) {
      const workers = options.wait
        ? await producer.queue.getWorkersCount().catch(() => undefined)
        : undefined;
      options.onEnqueued(pass, workers);
    }
    if (!options.wait) {
      return { pass, batch: await mustRead(producer.redis, keys, pass.batchId), done: false };
    }
    const { batch, done } = await waitForBatch(producer.redis, keys, pass.batchId, options);
    return { pass, batch, done };
  } finally {
    await api?.close();
    await producer.close();
  }
}

export type { BulkPassCounts, BulkPassResult, DryRunReport };

/**
 * The API for a bulk run's reads, through the shared rate budget; undefined without an API key
 * (the run then says which option needs it). The client, and got with it, is loaded on the
 * first read: a run from a file with `includeShared` makes none.
 */
function openAccounts(
  config: Config,
  redis: Redis,
  keys: Keys,
): { lister: AccountLister; close(): Promise<void> } | undefined {
  const apiKey = config.apiKey;
  if (!apiKey) return undefined;
  let client: Promise<SendmuxClient> | undefined;
  const open = () =>
    (client ??= import('../sendmux/client.js').then(({ createSendmuxClient }) =>
      createSendmuxClient({ baseUrl: config.baseUrl, apiKey, timeoutMs: config.timeoutMs }),
    ));
  const budget = limiterFor(config.rateLimitPerMinute);
  return {
    lister: {
      async *list(filter, signal) {
        const lister = budgetedLister({ client: await open(), redis, keys, budget });
        yield* lister.list(filter, signal);
      },
    },
    close: async () => {
      if (client) (await client).close();
    },
  };
}

/** What a bulk run would do, account by account; enqueues nothing, writes no batch. */
export async function dryRunBulk(config: Config, options: BulkRunOptions): Promise<DryRunReport> {
  return withRedis(config, async (redis, keys) => {
    const api = openAccounts(config, redis, keys);
    try {
      return await dryRunPass({ accounts: api?.lister }, options);
    } finally {
      await api?.close();
    }
  });
}

/** Resolves once every account of the batch has its outcome (or on timeout / abort). */
export async function waitForBatch(
  redis: Redis,
  keys: Keys,
  batchId: string,
  options: Pick<StartBulkRunOptions, 'waitTimeoutMs' | 'signal' | 'onProgress' | 'pollMs'> = {},
): Promise<{ batch: BatchRecord; done: boolean }> {
  const deadline =
    options.waitTimeoutMs === undefined ? Infinity : Date.now() + options.waitTimeoutMs;
  for (;;) {
    const batch = await mustRead(redis, keys, batchId);
    options.onProgress?.(batch);
    const done = batch.finished_at !== null;
    if (done || Date.now() >= deadline || options.signal?.aborted) return { batch, done };
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
}

async function mustRead(redis: Redis, keys: Keys, batchId: string): Promise<BatchRecord> {
  const batch = await readBatch(redis, keys, batchId);
  if (!batch) throw new UsageError(`no batch "${batchId}"`);
  return batch;
}

function checkBatchId(batchId: string): void {
  if (!BATCH_ID_RULE.test(batchId))
    throw new UsageError(`batch id "${batchId}" ${BATCH_ID_RULE_TEXT}`);
}

async function withRedis<T>(config: Config, fn: (redis: Redis, keys: Keys) => Promise<T>) {
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 3 });
  try {
    return await fn(redis, keysFor(config.prefix));
  } finally {
    await redis.quit();
  }
}

/** A batch's record, or undefined if there is none by that id. */
export async function getBatch(config: Config, batchId: string): Promise<BatchRecord | undefined> {
  checkBatchId(batchId);
  return withRedis(config, (redis, keys) => readBatch(redis, keys, batchId));
}

/** The most recent batches, newest first. */
export async function listBatches(config: Config, limit = 100): Promise<BatchRecord[]> {
  return withRedis(config, (redis, keys) => listBatchRecords(redis, keys, limit));
}

/** One account of a batch, as the report shows it. */
export interface BatchReportRow {
  provider_id: string;
  /** `queued` until the account's intent has its outcome. */
  outcome: 'queued' | 'succeeded' | 'failed' | 'superseded' | 'cancelled';
  /** The account's status after the action (succeeded only). */
  status: string | null;
  error_code: string | null;
  http_status: number | null;
  request_id: string | null;
  attempts: number | null;
  at: string | null;
}

export const BATCH_REPORT_COLUMNS = [
  'provider_id',
  'outcome',
  'status',
  'error_code',
  'http_status',
  'request_id',
  'attempts',
  'at',
] as const satisfies readonly (keyof BatchReportRow)[];

/**
 * Every account of a batch, one row each, streamed (a page of the batch at a time). Throws a
 * UsageError if there is no such batch.
 */
export async function* batchReport(
  config: Config,
  batchId: string,
): AsyncGenerator<BatchReportRow> {
  checkBatchId(batchId);
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const keys = keysFor(config.prefix);
  try {
    await mustRead(redis, keys, batchId);
    for await (const { provider_id, event } of readBatchAccounts(redis, keys, batchId)) {
      yield {
        provider_id,
        outcome: event
          ? (event.type.slice('action.'.length) as BatchReportRow['outcome'])
          : 'queued',
        status: event?.account_status ?? null,
        error_code: event?.error_code ?? null,
        http_status: event?.http_status ?? null,
        request_id: event?.request_id ?? null,
        attempts: event?.attempts ?? null,
        at: event?.at ?? null,
      };
    }
  } finally {
    await redis.quit();
  }
}

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
 * finish. Throws a UsageError if there is no such batch.
 */
export async function cancelBatch(config: Config, batchId: string): Promise<CancelResult> {
  checkBatchId(batchId);
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const queue = createActionQueue(config, redis);
  queue.on('error', () => undefined);
  const keys = keysFor(config.prefix);
  const result: CancelResult = { batch_id: batchId, cancelled: 0, running: 0, already_done: 0 };
  try {
    const batch = await mustRead(redis, keys, batchId);
    await markBatchCancelled(redis, keys, batchId);
    let page: string[] = [];
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
      for (const o of outcomes) result[o]++;
    };
    for await (const { provider_id, event } of readBatchAccounts(redis, keys, batchId)) {
      if (event) {
        result.already_done++;
        continue;
      }
      page.push(provider_id);
      if (page.length >= CANCEL_CONCURRENCY) await cancelPage();
    }
    if (page.length > 0) await cancelPage();
    return result;
  } finally {
    await queue.close();
    await redis.quit();
  }
}

async function cancelOne(
  redis: Redis,
  queue: ActionQueue,
  keys: Keys,
  config: Config,
  batch: BatchRecord,
  providerId: string,
  binding: Binding | undefined,
): Promise<'cancelled' | 'running' | 'already_done'> {
  const key = bulkKey(batch.batch_id, providerId);
  if (binding && binding.state !== 'queued') return 'already_done';
  const jobId = binding ? jobIdFor(key, binding.seq) : undefined;
  const job = jobId ? await queue.getJob(jobId) : undefined;
  if (job) {
    try {
      // BullMQ refuses to remove a job a worker holds: that one is running, and finishes.
      await job.remove();
    } catch {
      return 'running';
    }
  }
  const cancelled: Cancelled = {
    intent: job?.data ?? {
      action: binding?.action ?? batch.action,
      providerId,
      idempotencyKey: key,
      source: 'bulk',
      sourceRef: batch.batch_id,
      reason: '',
    },
    seq: binding?.seq ?? 0,
    jobId: jobId ?? '',
    attempts: job?.attemptsMade ?? 0,
    at: new Date(),
    outcome: 'cancelled',
  };
  if (!binding) {
    // Added to the batch, never bound (a pass killed between the two): nothing to run; the
    // account is closed in the batch so that a resume leaves it alone.
    const closed = await closeBatchAccount(redis, keys, batch.batch_id, outcomeEvent(cancelled));
    return closed ? 'cancelled' : 'already_done';
  }
  const recorded = await recordOutcome(redis, keys, config, cancelled, undefined);
  return recorded === 'recorded' ? 'cancelled' : 'already_done';
}
