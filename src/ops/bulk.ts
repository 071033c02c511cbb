/**
 * Bulk runs as library functions (the `bulk` and `batch` CLI commands and the HTTP API): start
 * or resume one, wait for it, read its record, list them, report on every account. Cancel and
 * undo are in batch-cancel.ts and batch-undo.ts (they record outcomes: a bulk run's process
 * loads neither them nor the metrics registry).
 */
import type { Config } from '../config.js';
import { NotFoundError, UsageError } from '../errors.js';
import {
  dryRunBulk as dryRunPass,
  runBulkPass,
  type BulkPassCounts,
  type BulkPassResult,
  type BulkRunOptions,
  type DryRunReport,
} from '../producers/bulk/run.js';
import { openProducer } from '../queue/open-producer.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { createRedis } from '../redis/connect.js';
import { listBatches as listBatchRecords, readBatch } from '../store/batch-read.js';
import { BATCH_ID_RULE, BATCH_ID_RULE_TEXT, type BatchRecord } from '../store/batch-record.js';
import { readBatchReportAccounts } from '../store/batch-report-read.js';
import type { AccountUndo, ActivationOutcome } from '../store/batch-undo-record.js';
import { keysFor, type Keys } from '../store/keys.js';
import { REPORT_COLUMNS, reportRowView } from '../wire/batches.js';
import { openApiReads } from './api-reads.js';

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
  // The API for the run's reads (through the shared rate budget); none without an API key (the
  // run then says which option needs it). A run from a file with `includeShared` and no key
  // makes no read.
  const api = openApiReads(config, producer.redis, keys);
  try {
    const pass = await runBulkPass(
      {
        producer,
        redis: producer.redis,
        keys,
        accounts: api?.lister,
        reader: api?.reader,
        outcomes: config,
      },
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

/** What a bulk run would do, account by account; enqueues nothing, writes no batch. */
export async function dryRunBulk(config: Config, options: BulkRunOptions): Promise<DryRunReport> {
  return withRedis(config, async (redis, keys) => {
    const api = openApiReads(config, redis, keys);
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

/** A batch's record; a NotFoundError if there is none by that id. */
export async function mustRead(redis: Redis, keys: Keys, batchId: string): Promise<BatchRecord> {
  const batch = await readBatch(redis, keys, batchId);
  if (!batch) throw new NotFoundError(noSuchBatch(batchId));
  return batch;
}

/** What a batch id that names no batch answers (`not_found`), on the CLI and over HTTP. */
export function noSuchBatch(batchId: string): string {
  return `batch "${batchId}": no such batch`;
}

/** A UsageError unless `batchId` is a valid batch id. */
export function checkBatchId(batchId: string): void {
  if (!BATCH_ID_RULE.test(batchId))
    throw new UsageError(`batch id "${batchId}" ${BATCH_ID_RULE_TEXT}`);
}

async function withRedis<T>(config: Config, fn: (redis: Redis, keys: Keys) => Promise<T>) {
  const redis = createRedis(config, { maxRetriesPerRequest: 3 });
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
  account_id: string;
  /** `queued` until the account's intent has its outcome. */
  outcome: 'queued' | 'succeeded' | 'failed' | 'superseded' | 'cancelled';
  /** The account's status after the action (succeeded only). */
  status: string | null;
  error_code: string | null;
  http_status: number | null;
  request_id: string | null;
  attempts: number | null;
  at: string | null;
  /** The account's recorded status now (the newest answer or read about it); null if none. */
  status_now: string | null;
  /** The ids of the holds it has now (empty: not held). */
  held_by: string[];
  /** What `batch undo` did with it; null if no undo ran (or reached it). */
  undo: AccountUndo['result'] | null;
  /** The undo's activation's outcome (`queued` while it has none); null without one. */
  undo_activation: 'queued' | ActivationOutcome | null;
}

/** The report's columns as users see them (CSV header, JSON fields): the wire view's. */
export const BATCH_REPORT_COLUMNS = REPORT_COLUMNS;

/**
 * Every account of a batch, one row each, by account id: what the run did and what the account
 * is now. Streamed a page at a time (only the ids are all in memory: store/batch-report-read.ts).
 * Throws a NotFoundError if there is no such batch.
 */
export async function* batchReport(
  config: Config,
  batchId: string,
): AsyncGenerator<BatchReportRow> {
  checkBatchId(batchId);
  const redis = createRedis(config, { maxRetriesPerRequest: 3 });
  const keys = keysFor(config.prefix);
  try {
    await mustRead(redis, keys, batchId);
    for await (const a of readBatchReportAccounts(redis, keys, batchId)) {
      const { account_id, event, undo } = a;
      yield {
        account_id,
        outcome: event
          ? (event.type.slice('action.'.length) as BatchReportRow['outcome'])
          : 'queued',
        status: event?.account_status ?? null,
        error_code: event?.error_code ?? null,
        http_status: event?.http_status ?? null,
        request_id: event?.request_id ?? null,
        attempts: event?.attempts ?? null,
        at: event?.at ?? null,
        status_now: a.status_now,
        held_by: a.held_by,
        undo: undo?.result ?? null,
        undo_activation: undo?.result === 'reactivated' ? (undo.activation ?? 'queued') : null,
      };
    }
  } finally {
    await redis.quit();
  }
}

export type BatchReportFormat = 'csv' | 'json';

/**
 * {@link batchReport} as text lines, newline-terminated: `csv` starts with a header row
 * ({@link BATCH_REPORT_COLUMNS}); `json` is one object per line. Shared by `batch report` and
 * `GET /v1/batches/:id/report`.
 */
export async function* batchReportLines(
  config: Config,
  batchId: string,
  format: BatchReportFormat,
): AsyncGenerator<string> {
  if (format === 'csv') yield `${BATCH_REPORT_COLUMNS.join(',')}\n`;
  for await (const row of batchReport(config, batchId)) {
    const view = reportRowView(row);
    yield format === 'json'
      ? `${JSON.stringify(view)}\n`
      : `${BATCH_REPORT_COLUMNS.map((c) => csvField(view[c])).join(',')}\n`;
  }
}

function csvField(value: string | number | null | readonly string[]): string {
  if (value === null) return '';
  // A list (the holds) as one field, its items separated by spaces (hold ids have none).
  const text = typeof value === 'object' ? value.join(' ') : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
