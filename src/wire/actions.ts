/** Switching accounts off or on by hand: `deactivate|activate --json`, `POST /v1/actions`. */
import { z } from 'zod';
import { ACTIONS, INTENT_STATES } from '../model.js';
import type { ActionReport, EnqueueActionsResult } from '../ops/enqueue-actions.js';
import { accountIdSchema, outcomeDetailShape } from './common.js';

/** What became of one account's action (`deactivate|activate --json` prints an array of them). */
export const actionReportSchema = z.strictObject({
  account_id: accountIdSchema,
  action: z.enum(ACTIONS),
  /** '' when `held` (nothing was enqueued). */
  idempotency_key: z.string(),
  job_id: z.string(),
  enqueue: z.enum(['enqueued', 'duplicate', 'held']),
  state: z.enum([...INTENT_STATES, 'new', 'unknown', 'held']),
  held_by: z.array(z.string()),
  ...outcomeDetailShape,
});
export type ActionReportView = z.infer<typeof actionReportSchema>;

/** `POST /v1/actions` (202). */
export const actionsAnswerSchema = z.strictObject({
  reports: z.array(actionReportSchema),
  /** Account ids given more than once (asked for once). */
  repeated: z.array(accountIdSchema),
  warnings: z.array(z.string()),
  /** Every intent reached a terminal state (true without waiting). */
  done: z.boolean(),
});

export function actionReportView(r: ActionReport): ActionReportView {
  return {
    account_id: r.account_id,
    action: r.action,
    idempotency_key: r.idempotency_key,
    job_id: r.job_id,
    enqueue: r.enqueue,
    state: r.state,
    held_by: r.held_by,
    http_status: r.http_status,
    error_code: r.error_code,
    error_message: r.error_message,
    request_id: r.request_id,
    account_status: r.account_status,
    superseded_by: r.superseded_by,
  };
}

export function actionsAnswerView(r: EnqueueActionsResult): z.infer<typeof actionsAnswerSchema> {
  return {
    reports: r.reports.map(actionReportView),
    repeated: r.repeated,
    warnings: r.warnings,
    done: r.done,
  };
}
