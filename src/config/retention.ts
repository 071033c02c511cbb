/**
 * Settings of retention (put together in ../config.ts): BullMQ's completed and failed jobs, and
 * the sweep of idle accounts, finished batches, quiet breakers and old window occurrences.
 */
import { int, setting } from './rules.js';

export const RETENTION_SETTINGS = {
  keepCompletedJobs: setting(
    'KEEP_COMPLETED_JOBS',
    int(0, 10_000_000).default(1_000),
    'Completed jobs kept in BullMQ.',
  ),
  failedJobRetentionS: setting(
    'FAILED_JOB_RETENTION_S',
    int(1, 10 * 365 * 86_400).default(7 * 86_400),
    "How long failed action jobs are kept in BullMQ (removeOnFail's age, applied as jobs fail); the outcome lives on in the binding and the `action.failed` event.",
  ),
  keepFailedJobs: setting(
    'KEEP_FAILED_JOBS',
    int(0, 10_000_000).default(100_000),
    "At most this many failed action jobs are kept in BullMQ, the newest (removeOnFail's count).",
  ),
  accountRecordTtlS: setting(
    'ACCOUNT_RECORD_TTL_S',
    int(1, 10 * 365 * 86_400).default(30 * 86_400),
    "An account's status and order records are removed once it has been idle this long: no hold, no intent queued or running, no outcome recorded meanwhile (the retention sweep).",
  ),
  batchRecordTtlS: setting(
    'BATCH_RECORD_TTL_S',
    int(1, 10 * 365 * 86_400).default(30 * 86_400),
    "A bulk run's record and accounts are removed this long after it finished (never while it runs or waits for a resume).",
  ),
  breakerRecordTtlS: setting(
    'BREAKER_RECORD_TTL_S',
    int(1, 10 * 365 * 86_400).default(30 * 86_400),
    "A closed breaker's record and breaker-index entry are removed once no signal came for the account this long.",
  ),
  windowOccurrencesKeep: setting(
    'WINDOW_OCCURRENCES_KEEP',
    int(1, 1_000_000).default(100),
    'Occurrences kept per maintenance window, the newest (`window show` lists 20); older ended or skipped ones are removed.',
  ),
  retentionSweepS: setting(
    'RETENTION_SWEEP_S',
    int(1, 86_400).default(300),
    'How often a worker runs the retention sweep (one worker at a time) that removes the records above once their retention has passed.',
  ),
} as const;
