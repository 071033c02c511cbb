/**
 * Bulk runs as a user sees them: `bulk --json` and `POST /v1/batches` (one shape: the pass, the
 * batch, and whether it is done), `bulk --dry-run --json` and `dry_run`, `batch status|list`
 * and `GET /v1/batches[/:id]`, the report's rows, `batch cancel|undo` and their routes.
 */
import { z } from 'zod';
import { ACTIONS } from '../model.js';
import type { CancelResult } from '../ops/batch-cancel.js';
import type { UndoResult } from '../ops/batch-undo.js';
import type { BatchReportRow, BulkPassResult, DryRunReport } from '../ops/bulk.js';
import type { BatchRecord } from '../store/batch-record.js';
import { ACTIVATION_OUTCOMES, UNDO_RESULTS } from '../store/batch-undo-record.js';
import { accountIdSchema, baseStateSchema, timeSchema } from './common.js';

const undoResults = z.enum(UNDO_RESULTS);
const activationOutcomes = z.enum(ACTIVATION_OUTCOMES);

/** What `batch undo` did, in a batch's record (counts per account, however many undos ran). */
export const batchUndoSchema = z.strictObject({
  /** `running` until it went through every account and every activation has its outcome. */
  state: z.enum(['running', 'done']),
  /** The first undo's start and actor. */
  started_at: timeSchema,
  /** When the last activation got its outcome; null while running. */
  finished_at: timeSchema.nullable(),
  by: z.string().nullable(),
  runs: z.number(),
  last_run_at: timeSchema,
  last_run_by: z.string().nullable(),
  reactivated: z.number(),
  still_held: z.number(),
  was_inactive: z.number(),
  not_switched_off: z.number(),
  already_undone: z.number(),
  /** The activations asked for (one per reactivated account) and their outcomes. */
  activations: z.strictObject({
    total: z.number(),
    succeeded: z.number(),
    failed: z.number(),
    superseded: z.number(),
    cancelled: z.number(),
    queued: z.number(),
  }),
});

export const batchSchema = z.strictObject({
  batch_id: z.string(),
  action: z.enum(ACTIONS),
  source: z.string(),
  reason: z.string(),
  created_at: timeSchema,
  /** Who started the run (null when not recorded). */
  created_by: z.string().nullable(),
  pass_started_at: timeSchema.nullable(),
  finished_at: timeSchema.nullable(),
  passes: z.number(),
  enqueue_done: z.boolean(),
  total: z.number(),
  queued: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  superseded: z.number(),
  cancelled: z.number(),
  cancelled_at: timeSchema.nullable(),
  /** Who ran the first `batch cancel`. */
  cancelled_by: z.string().nullable(),
  skipped: z.number(),
  invalid: z.number(),
  duplicates: z.number(),
  /** What `batch undo` did; null if it never ran. */
  undo: batchUndoSchema.nullable(),
});
export type BatchView = z.infer<typeof batchSchema>;

/** `GET /v1/batches`. */
export const batchesListSchema = z.strictObject({ batches: z.array(batchSchema) });

export function batchView(b: BatchRecord): BatchView {
  return {
    batch_id: b.batch_id,
    action: b.action,
    source: b.source,
    reason: b.reason,
    created_at: b.created_at,
    created_by: b.created_by,
    pass_started_at: b.pass_started_at,
    finished_at: b.finished_at,
    passes: b.passes,
    enqueue_done: b.enqueue_done,
    total: b.total,
    queued: b.queued,
    succeeded: b.succeeded,
    failed: b.failed,
    superseded: b.superseded,
    cancelled: b.cancelled,
    cancelled_at: b.cancelled_at,
    cancelled_by: b.cancelled_by,
    skipped: b.skipped,
    invalid: b.invalid,
    duplicates: b.duplicates,
    undo: b.undo && { ...b.undo, activations: { ...b.undo.activations } },
  };
}

/** What one pass of a bulk run did (a run resumed with the same batch id is another pass). */
export const passSchema = z.strictObject({
  batch_id: z.string(),
  action: z.enum(ACTIONS),
  /** 1 for a new batch; more when it was resumed. */
  pass: z.number(),
  /** Where the ids came from. */
  input: z.string(),
  read: z.number(),
  enqueued: z.number(),
  resumed: z.number(),
  already_done: z.number(),
  duplicates: z.number(),
  skipped: z.number(),
  held: z.number(),
  invalid: z.number(),
  /** The first invalid lines, with their numbers. */
  problems: z.array(z.string()),
  /** The first accounts left out, with why. */
  skipped_ids: z.array(z.string()),
});

export function passView(p: BulkPassResult): z.infer<typeof passSchema> {
  return {
    batch_id: p.batchId,
    action: p.action,
    pass: p.pass,
    input: p.input,
    read: p.read,
    enqueued: p.enqueued,
    resumed: p.resumed,
    already_done: p.alreadyDone,
    duplicates: p.duplicates,
    skipped: p.skipped,
    held: p.held,
    invalid: p.invalid,
    problems: p.problems,
    skipped_ids: p.skippedIds,
  };
}

/** `bulk --json` and `POST /v1/batches` (202). */
export const bulkRunSchema = z.strictObject({
  batch_id: z.string(),
  pass: passSchema,
  /** The batch as last read (after waiting, with `bulk --wait`). */
  batch: batchSchema,
  /** Every account of the batch has its outcome. */
  done: z.boolean(),
});

export function bulkRunView(
  pass: BulkPassResult,
  batch: BatchRecord,
): z.infer<typeof bulkRunSchema> {
  return {
    batch_id: pass.batchId,
    pass: passView(pass),
    batch: batchView(batch),
    done: batch.finished_at !== null,
  };
}

/** `bulk --dry-run --json` and `POST /v1/batches` with `dry_run` (200). */
export const dryRunSchema = z.strictObject({
  batch_id: z.string(),
  action: z.enum(ACTIONS),
  dry_run: z.literal(true),
  input: z.string(),
  read: z.number(),
  would_enqueue: z.number(),
  /** The accounts a run would switch, in input order. */
  would_enqueue_ids: z.array(accountIdSchema),
  /** Already in the asked state. */
  already_in_state: z.array(accountIdSchema),
  /** The API does not allow the action on them. */
  not_allowed: z.array(accountIdSchema),
  /** The shared account, left out without `include_shared`. */
  shared: z.array(accountIdSchema),
  /** Not among the team's accounts. */
  unknown: z.array(z.string()),
  invalid: z.number(),
  duplicates: z.number(),
  problems: z.array(z.string()),
});

export function dryRunView(r: DryRunReport): z.infer<typeof dryRunSchema> {
  return {
    batch_id: r.batchId,
    action: r.action,
    dry_run: true,
    input: r.input,
    read: r.read,
    would_enqueue: r.wouldEnqueue,
    would_enqueue_ids: r.wouldEnqueueIds,
    already_in_state: r.already,
    not_allowed: r.notAllowed,
    shared: r.shared,
    unknown: r.unknown,
    invalid: r.invalid,
    duplicates: r.duplicates,
    problems: r.problems,
  };
}

/** One row of a batch's report (`batch report --format json`, `GET .../report?format=json`). */
export const reportRowSchema = z.strictObject({
  account_id: accountIdSchema,
  outcome: z.enum(['queued', 'succeeded', 'failed', 'superseded', 'cancelled']),
  status: z.string().nullable(),
  error_code: z.string().nullable(),
  http_status: z.number().nullable(),
  request_id: z.string().nullable(),
  attempts: z.number().nullable(),
  at: timeSchema.nullable(),
  /** The account's recorded status now (its newest answer or read); null if none. */
  status_now: z.string().nullable(),
  /** The holds it has now (CSV: separated by spaces); empty when it is not held. */
  held_by: z.array(z.string()),
  /** What `batch undo` did with it; null if no undo ran. */
  undo: undoResults.nullable(),
  /** The undo's activation: its outcome, `queued` while it has none; null without one. */
  undo_activation: z.union([z.literal('queued'), activationOutcomes]).nullable(),
});
export type ReportRowView = z.infer<typeof reportRowSchema>;
/** The report's CSV columns, in order (the row's fields). */
export const REPORT_COLUMNS = Object.keys(reportRowSchema.shape) as (keyof ReportRowView)[];

export function reportRowView(r: BatchReportRow): ReportRowView {
  return {
    account_id: r.account_id,
    outcome: r.outcome,
    status: r.status,
    error_code: r.error_code,
    http_status: r.http_status,
    request_id: r.request_id,
    attempts: r.attempts,
    at: r.at,
    status_now: r.status_now,
    held_by: [...r.held_by],
    undo: r.undo,
    undo_activation: r.undo_activation,
  };
}

/** `batch cancel --json`, `POST /v1/batches/:id/cancel`. */
export const cancelSchema = z.strictObject({
  batch_id: z.string(),
  cancelled: z.number(),
  running: z.number(),
  already_done: z.number(),
});

export function cancelView(r: CancelResult): z.infer<typeof cancelSchema> {
  return {
    batch_id: r.batch_id,
    cancelled: r.cancelled,
    running: r.running,
    already_done: r.already_done,
  };
}

const progressSchema = z.strictObject({
  total: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  superseded: z.number(),
  cancelled: z.number(),
});

/** `batch undo --json`, `POST /v1/batches/:id/undo`. */
export const undoSchema = z.strictObject({
  batch_id: z.string(),
  reactivated: z.number(),
  still_held: z.number(),
  was_inactive: z.number(),
  not_switched_off: z.number(),
  still_queued: z.number(),
  already_undone: z.number(),
  cancelled_first: z.number(),
  accounts: z.array(
    z.strictObject({
      account_id: accountIdSchema,
      result: undoResults,
      outcome: reportRowSchema.shape.outcome,
      before: baseStateSchema.nullable(),
      held_by: z.array(z.string()),
      idempotency_key: z.string().nullable(),
    }),
  ),
  accounts_truncated: z.boolean(),
  /** With `--wait`: what became of the activations; null otherwise. */
  activations: progressSchema.nullable(),
  /** With `--wait`: every activation has its outcome (true without waiting). */
  done: z.boolean(),
});

export function undoView(r: UndoResult): z.infer<typeof undoSchema> {
  return {
    batch_id: r.batch_id,
    reactivated: r.reactivated,
    still_held: r.still_held,
    was_inactive: r.was_inactive,
    not_switched_off: r.not_switched_off,
    still_queued: r.still_queued,
    already_undone: r.already_undone,
    cancelled_first: r.cancelled_first,
    accounts: r.accounts.map((a) => ({
      account_id: a.account_id,
      result: a.result,
      outcome: a.outcome,
      before: a.before,
      held_by: a.held_by,
      idempotency_key: a.idempotency_key,
    })),
    accounts_truncated: r.accounts_truncated,
    activations: r.activations && { ...r.activations },
    done: r.done,
  };
}
