/**
 * The text the `bulk` and `batch` commands print (their `--json` is the wire views): a pass,
 * a batch record, a dry run and an undo.
 */
import type { UndoAccount, UndoResult } from '../ops/batch-undo.js';
import type { BulkPassResult, DryRunReport } from '../ops/bulk.js';
import type { BatchRecord } from '../store/batch-record.js';

/** Accounts named per kind in the text output. */
const UNDO_NAMED = 20;

export function describePass(p: BulkPassResult): string {
  const lines = [
    `batch ${p.batchId} (${p.action}, pass ${p.pass}): ${p.enqueued} enqueued` +
      (p.resumed > 0 ? `, ${p.resumed} already queued` : '') +
      (p.alreadyDone > 0 ? `, ${p.alreadyDone} already done` : '') +
      (p.duplicates > 0 ? `, ${p.duplicates} repeated ids dropped` : '') +
      (p.invalid > 0 ? `, ${p.invalid} invalid lines skipped` : '') +
      (p.skipped > 0 ? `, ${p.skipped} left out` : ''),
  ];
  for (const problem of p.problems) lines.push(`  ${problem}`);
  for (const skipped of p.skippedIds) {
    lines.push(
      `  left out: ${skipped}${skipped.endsWith('the shared account') ? ' (--include-shared)' : ''}`,
    );
  }
  if (p.invalid > p.problems.length) lines.push(`  ... and ${p.invalid - p.problems.length} more`);
  lines.push(`resume or re-check it with: --batch-id ${p.batchId}`);
  return lines.join('\n');
}

export function describeBatch(b: BatchRecord): string {
  const done = b.total - b.queued;
  const by = (who: string | null) => (who ? ` by ${who}` : '');
  const lines = [
    `batch ${b.batch_id}: ${b.action}, ${b.total} accounts`,
    `  done ${done}/${b.total}: ${b.succeeded} succeeded, ${b.failed} failed, ${b.superseded} superseded, ${b.cancelled} cancelled; ${b.queued} queued`,
    `  skipped ${b.skipped}, invalid lines ${b.invalid}, repeated ids ${b.duplicates} (last pass)`,
    `  created ${b.created_at}${by(b.created_by)}, passes ${b.passes}, ${b.finished_at ? `finished ${b.finished_at}` : 'not finished'}`,
  ];
  if (b.cancelled_at) lines.push(`  cancelled ${b.cancelled_at}${by(b.cancelled_by)}`);
  const u = b.undo;
  if (u) {
    const a = u.activations;
    const head =
      u.state === 'done'
        ? `undone${by(u.by)} at ${u.finished_at ?? '?'}`
        : `undo running (started ${u.started_at}${by(u.by)})`;
    lines.push(
      `  ${head}: ${u.reactivated} reactivated, ${u.still_held} still held off by other holds, ${u.was_inactive} not active before the run (left off), ${u.not_switched_off} not switched off by the run` +
        (u.already_undone > 0 ? `, ${u.already_undone} already undone` : ''),
      `    activations: ${a.succeeded} succeeded, ${a.failed} failed, ${a.superseded} superseded, ${a.cancelled} cancelled; ${a.queued} queued` +
        (u.runs > 1
          ? ` (${u.runs} undo runs, the last${by(u.last_run_by)} at ${u.last_run_at})`
          : ''),
    );
  }
  return lines.join('\n');
}

/** The undo in one cell of `batch list`: `-`, `running 120/2000` or `done: 2000 reactivated`. */
export function undoColumn(b: BatchRecord): string {
  const u = b.undo;
  if (!u) return '-';
  const who = u.by ? ` (${u.by})` : '';
  const a = u.activations;
  return u.state === 'done'
    ? `done${who}: ${u.reactivated} reactivated`
    : `running${who}: ${a.total - a.queued}/${a.total}`;
}

/** Accounts named per kind in a dry run's text without `--verbose`. */
const DRY_RUN_NAMED = 10;

/** A dry run as text: every kind with its accounts (the first 10 of each, all with `verbose`). */
export function describeDryRun(report: DryRunReport, verbose = false): string {
  const verb = report.action;
  const listed = (ids: readonly string[]): string => {
    if (ids.length === 0) return '';
    const shown = verbose ? ids : ids.slice(0, DRY_RUN_NAMED);
    const more = ids.length - shown.length;
    return ` (${shown.join(', ')}${more > 0 ? `, ... ${more} more: --verbose lists all` : ''})`;
  };
  const lines = [
    `dry run (${verb}, ${report.input}): nothing was enqueued`,
    `  would ${verb}: ${report.wouldEnqueue}${listed(report.wouldEnqueueIds)}`,
    `  already ${verb === 'deactivate' ? 'inactive' : 'active'}: ${report.already.length}${listed(report.already)}`,
    `  ${verb} not allowed by the API: ${report.notAllowed.length}${listed(report.notAllowed)}`,
    `  the shared account, left out (--include-shared): ${report.shared.length}${listed(report.shared)}`,
    `  not among the team's accounts: ${report.unknown.length}${listed(report.unknown)}`,
    `  repeated ids: ${report.duplicates}; invalid lines: ${report.invalid}`,
    ...report.problems.map((p) => `    ${p}`),
  ];
  return lines.join('\n');
}

export function describeUndo(r: UndoResult): string {
  const lines = [
    `batch ${r.batch_id} undone: ${r.reactivated} reactivated (activations enqueued), ${r.still_held} still held off by other holds, ${r.was_inactive} not active before the run (left off), ${r.not_switched_off} not switched off by the run, ${r.already_undone} already undone`,
  ];
  if (r.cancelled_first > 0) {
    lines.push(`  --force: ${r.cancelled_first} queued deactivation(s) cancelled first`);
  }
  const named = (
    result: UndoAccount['result'],
    line: (a: UndoAccount) => string,
    only?: (a: UndoAccount) => boolean,
  ) => {
    const all = r.accounts.filter((a) => a.result === result && (only?.(a) ?? true));
    for (const a of all.slice(0, UNDO_NAMED)) lines.push(`  ${line(a)}`);
    if (all.length > UNDO_NAMED) lines.push(`  ... and ${all.length - UNDO_NAMED} more`);
  };
  named('still_held', (a) => `${a.account_id}: still held off by ${a.held_by.join(', ')}`);
  named(
    'was_inactive',
    (a) =>
      `${a.account_id}: left off, it was ${a.before === 'unknown' ? 'of unknown state (no API when the run read it)' : 'inactive'} before the run`,
  );
  named('not_switched_off', (a) =>
    a.outcome === 'queued'
      ? `${a.account_id}: still running, its hold is kept: run \`batch undo ${r.batch_id}\` again once it ended`
      : `${a.account_id}: not switched off by the run (${a.outcome})`,
  );
  if (r.accounts_truncated) {
    lines.push(`  (accounts named from the first ${r.accounts.length}; the counts cover all)`);
  }
  return lines.join('\n');
}
