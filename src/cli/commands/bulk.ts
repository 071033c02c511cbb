/**
 * `bulk` (start or resume a bulk run) and `batch status|cancel|undo|list|report`: shells over
 * ops/bulk.ts.
 */
import type { Command } from 'commander';
import { NotFoundError, UsageError } from '../../errors.js';
import { ACTIONS, type Action } from '../../model.js';
import type { UndoAccount, UndoResult } from '../../ops/batch-undo.js';
import type { BulkPassResult } from '../../ops/bulk.js';
import { parseFilter } from '../../producers/bulk/accounts.js';
import { DEFAULT_CHUNK, type BulkSource } from '../../producers/bulk/run.js';
import type { WaitProgress } from '../../queue/wait.js';
import type { BatchRecord } from '../../store/batch-record.js';
import { cliContext, stopSignal } from '../context.js';
import {
  EXIT_ACTION_FAILED,
  EXIT_INTERRUPTED,
  EXIT_INVALID,
  EXIT_WAIT_TIMEOUT,
} from '../exit-codes.js';
import { table } from '../format.js';
import { limitHeapGrowth } from '../heap.js';
import { enumOption, intOption } from '../options.js';
import { writeOut } from '../output.js';

/** The library's bulk functions, loaded when a command runs (not for every command's start). */
const ops = () => import('../../ops/bulk.js');
/** The JSON views (`--json`), loaded when printing. */
const wire = () => import('../../wire/batches.js');
/** Cancel and undo: only for those commands (they load what records outcomes). */
const cancelOps = () => import('../../ops/batch-cancel.js');
const undoOps = () => import('../../ops/batch-undo.js');

interface BulkFlags {
  action: Action;
  file?: string;
  ids?: string;
  filter?: string;
  includeShared?: boolean;
  dryRun?: boolean;
  batchId?: string;
  skipInvalid?: boolean;
  reason?: string;
  wait?: boolean;
  waitTimeout?: number;
  json?: boolean;
  chunkSize: number;
}

export function registerBulk(program: Command): void {
  program
    .command('bulk')
    .description(
      'deactivate (or activate) many accounts as one batch; run it again with the same --batch-id to resume',
    )
    .option(
      '--action <action>',
      'deactivate or activate',
      enumOption('--action', ACTIONS),
      'deactivate',
    )
    .option(
      '--file <path>',
      'account ids, one per line or CSV with an "id" column ("-" = stdin; # comments and blank lines ignored)',
    )
    .option('--ids <a,b,c>', 'account ids, comma-separated')
    .option(
      '--filter <status=...,type=...>',
      "the team's accounts matching a filter, listed from the API (e.g. status=active,type=smtp)",
    )
    .option(
      '--include-shared',
      "include the team's shared account (Sendmux's Amazon SES); left out by default",
    )
    .option('--dry-run', 'print what would happen, account by account; enqueue nothing')
    .option('--batch-id <id>', 'name the batch, or resume it (default: a new id, printed)')
    .option(
      '--skip-invalid',
      'enqueue the valid ids even if some lines are invalid (default: none)',
    )
    .option('--reason <text>', 'why, recorded with every action')
    .option('--wait', 'show progress until every account is done; exit 1 if any failed')
    .option(
      '--wait-timeout <seconds>',
      `with --wait: stop waiting after this many seconds (exit ${EXIT_WAIT_TIMEOUT})`,
      intOption('--wait-timeout', 1),
    )
    .option('--json', 'print a JSON summary on stdout instead of text')
    .option(
      '--chunk-size <n>',
      'ids per round trip to Redis (batch record, claim, addBulk); 4 chunks are in flight at once',
      intOption('--chunk-size', 1, 10_000),
      DEFAULT_CHUNK,
    )
    .action(async (flags: BulkFlags) => {
      await runBulkCommand(flags);
    });

  const batch = program.command('batch').description('inspect, cancel or undo bulk runs');
  batch
    .command('status')
    .description("a batch's counters and times")
    .argument('<batch>', 'batch id')
    .option('--json', 'print JSON')
    .action(async (batchId: string, flags: { json?: boolean }) => {
      const { config } = cliContext();
      const { getBatch, noSuchBatch } = await ops();
      const record = await getBatch(config, batchId);
      if (!record) throw new NotFoundError(noSuchBatch(batchId));
      process.stdout.write(
        flags.json
          ? `${JSON.stringify((await wire()).batchView(record), null, 2)}\n`
          : `${describeBatch(record)}\n`,
      );
    });
  batch
    .command('cancel')
    .description(
      'remove the jobs of a batch not started yet (they end cancelled); running ones finish',
    )
    .argument('<batch>', 'batch id')
    .option('--json', 'print JSON')
    .action(async (batchId: string, flags: { json?: boolean }) => {
      const { config } = cliContext();
      const { getBatch, noSuchBatch } = await ops();
      if (!(await getBatch(config, batchId))) throw new NotFoundError(noSuchBatch(batchId));
      const r = await (await cancelOps()).cancelBatch(config, batchId);
      process.stdout.write(
        flags.json
          ? `${JSON.stringify((await wire()).cancelView(r))}\n`
          : `batch ${batchId}: ${r.cancelled} cancelled, ${r.running} running (they finish), ${r.already_done} already done\n`,
      );
    });
  batch
    .command('undo')
    .description(
      `undo a deactivate batch: release its holds, and activate again each account it switched off that no other hold keeps off and that was active before the run; exit ${EXIT_ACTION_FAILED} (state_conflict) for an activate batch or one not finished (see --force)`,
    )
    .argument('<batch>', 'batch id')
    .option(
      '--force',
      'undo a batch that is not finished: cancel what is still queued first (like batch cancel); running ones keep their hold (undo again once they end)',
    )
    .option('--wait', `wait for the activations; exit ${EXIT_ACTION_FAILED} if any failed`)
    .option(
      '--wait-timeout <seconds>',
      `with --wait: stop waiting after this many seconds (exit ${EXIT_WAIT_TIMEOUT})`,
      intOption('--wait-timeout', 1),
    )
    .option(
      '--json',
      `print a JSON summary: the counts, and the first ${UNDO_SHOWN} accounts with their result`,
    )
    .action(async (batchId: string, flags: UndoFlags) => {
      await runUndoCommand(batchId, flags);
    });
  batch
    .command('list')
    .description('the most recent batches, newest first')
    .option('--limit <n>', 'how many', intOption('--limit', 1, 10_000), 100)
    .option('--json', 'print a JSON array')
    .action(async (flags: { limit: number; json?: boolean }) => {
      const { config } = cliContext();
      const records = await (await ops()).listBatches(config, flags.limit);
      if (flags.json) {
        const { batchView } = await wire();
        process.stdout.write(`${JSON.stringify(records.map(batchView), null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${table(records, ['batch_id', 'action', 'total', 'succeeded', 'failed', 'queued', 'created_at', 'finished_at'])}\n`,
      );
    });
  batch
    .command('report')
    .description('one row per account of a batch: outcome, status, error code, HTTP status, ...')
    .argument('<batch>', 'batch id')
    .option(
      '--format <format>',
      'csv, or json (one object per line)',
      enumOption('--format', ['csv', 'json'] as const),
      'csv',
    )
    .action(async (batchId: string, flags: { format: 'csv' | 'json' }) => {
      const { config } = cliContext();
      const { getBatch, batchReportLines, noSuchBatch } = await ops();
      if (!(await getBatch(config, batchId))) throw new NotFoundError(noSuchBatch(batchId));
      for await (const line of batchReportLines(config, batchId, flags.format)) {
        await writeOut(line);
      }
    });
}

interface UndoFlags {
  force?: boolean;
  wait?: boolean;
  waitTimeout?: number;
  json?: boolean;
}

/** Kept in step with UNDO_ACCOUNTS_SHOWN (ops/bulk.ts), which the help cannot import eagerly. */
const UNDO_SHOWN = 1000;
/** Accounts named per kind in the text output. */
const UNDO_NAMED = 20;

async function runUndoCommand(batchId: string, flags: UndoFlags): Promise<void> {
  if (flags.waitTimeout !== undefined && !flags.wait) {
    throw new UsageError('--wait-timeout: needs --wait');
  }
  const { config } = cliContext();
  const { getBatch, noSuchBatch } = await ops();
  const { undoBatch } = await undoOps();
  if (!(await getBatch(config, batchId))) throw new NotFoundError(noSuchBatch(batchId));
  const signal = flags.wait ? stopSignal() : undefined;
  const result = await undoBatch(config, batchId, {
    force: flags.force,
    wait: flags.wait,
    waitTimeoutMs: flags.waitTimeout === undefined ? undefined : flags.waitTimeout * 1000,
    signal,
    onUndone: (r, workers) => {
      // Printed before waiting: an interrupted wait loses nothing.
      if (!flags.json) process.stdout.write(`${describeUndo(r)}\n`);
      if (flags.wait && r.reactivated > 0) {
        process.stderr.write(`waiting for ${r.reactivated} activation(s)...\n`);
        if (workers === 0) {
          process.stderr.write(
            'warning: no worker is connected to the queue: nothing will run until one starts (sendmux-deactivator worker)\n',
          );
        }
      }
    },
    onProgress: flags.wait && !flags.json ? undoProgress() : undefined,
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify((await wire()).undoView(result), null, 2)}\n`);
  }
  if (!flags.wait || !result.activations) return;
  const a = result.activations;
  if (!flags.json) {
    process.stdout.write(
      `activations: ${a.succeeded} succeeded, ${a.failed} failed, ${a.superseded} superseded, ${a.cancelled} cancelled (of ${a.total})\n`,
    );
  }
  if (!result.done) {
    const interrupted = signal?.aborted === true;
    process.stderr.write(
      `${interrupted ? 'interrupted' : `timed out after ${flags.waitTimeout ?? 0} s`}: the activations stay queued; follow them with \`events\` or \`status\`\n`,
    );
    process.exitCode = interrupted ? EXIT_INTERRUPTED : EXIT_WAIT_TIMEOUT;
    return;
  }
  if (a.succeeded < a.total) process.exitCode = EXIT_ACTION_FAILED;
}

function describeUndo(r: UndoResult): string {
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

/** Progress on stderr while waiting for the activations: at most a line every 2 s. */
function undoProgress(): (p: WaitProgress) => void {
  let last = '';
  let lastAt = 0;
  return (p) => {
    const done = p.succeeded + p.failed + p.superseded + p.cancelled;
    const line = `progress: ${done}/${p.total} activations done (${p.succeeded} succeeded, ${p.failed} failed)`;
    const now = Date.now();
    if (line === last || (now - lastAt < 2_000 && done < p.total)) return;
    last = line;
    lastAt = now;
    process.stderr.write(`${line}\n`);
  };
}

function sourceOf(flags: BulkFlags): BulkSource {
  const given = [flags.file, flags.ids, flags.filter].filter((f) => f !== undefined).length;
  if (given !== 1) throw new UsageError('bulk: give exactly one of --file, --ids or --filter');
  if (flags.file !== undefined) return { kind: 'file', path: flags.file };
  if (flags.filter !== undefined) return { kind: 'filter', filter: parseFilter(flags.filter) };
  return { kind: 'ids', ids: (flags.ids ?? '').split(',') };
}

async function runDryRun(flags: BulkFlags, source: BulkSource): Promise<void> {
  if (flags.wait) throw new UsageError('--dry-run: cannot be used with --wait');
  const { config } = cliContext();
  const report = await (
    await ops()
  ).dryRunBulk(config, {
    source,
    action: flags.action,
    batchId: flags.batchId,
    includeShared: flags.includeShared,
  });
  if (report.invalid > 0 && !flags.skipInvalid) process.exitCode = EXIT_INVALID;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify((await wire()).dryRunView(report))}\n`);
    return;
  }
  const verb = report.action;
  const lines = [
    `dry run (${verb}, ${report.input}): nothing was enqueued`,
    `  would ${verb}: ${report.wouldEnqueue}`,
    `  already ${verb === 'deactivate' ? 'inactive' : 'active'}: ${report.already.length}${listed(report.already)}`,
    `  ${verb} not allowed by the API: ${report.notAllowed.length}${listed(report.notAllowed)}`,
    `  the shared account, left out (--include-shared): ${report.shared.length}${listed(report.shared)}`,
    `  not among the team's accounts: ${report.unknown.length}${listed(report.unknown)}`,
    `  repeated ids: ${report.duplicates}; invalid lines: ${report.invalid}`,
    ...report.problems.map((p) => `    ${p}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function listed(ids: readonly string[]): string {
  if (ids.length === 0) return '';
  const shown = ids.slice(0, 10).join(', ');
  return ` (${shown}${ids.length > 10 ? `, ... ${ids.length - 10} more` : ''})`;
}

async function runBulkCommand(flags: BulkFlags): Promise<void> {
  if (flags.waitTimeout !== undefined && !flags.wait) {
    throw new UsageError('--wait-timeout: needs --wait');
  }
  const source = sourceOf(flags);
  if (flags.dryRun) {
    await runDryRun(flags, source);
    return;
  }
  const { config } = cliContext();
  limitHeapGrowth(); // see heap.ts: ~140 instead of ~200 MiB of RSS for 100k ids
  const signal = flags.wait ? stopSignal() : undefined;
  const progress =
    flags.wait && !flags.json ? await progressView(config.rateLimitPerMinute) : undefined;
  const { pass, batch, done } = await (
    await ops()
  ).startBulkRun(config, {
    source,
    action: flags.action,
    batchId: flags.batchId,
    skipInvalid: flags.skipInvalid,
    includeShared: flags.includeShared,
    reason: flags.reason,
    chunkSize: flags.chunkSize,
    wait: flags.wait,
    waitTimeoutMs: flags.waitTimeout === undefined ? undefined : flags.waitTimeout * 1000,
    signal,
    onEnqueued: (p, workers) => {
      // Printed before waiting, so an interrupted run can always be resumed.
      process.stderr.write(`${describePass(p)}\n`);
      if (workers === 0) {
        process.stderr.write(
          'warning: no worker is connected to the queue: nothing will run until one starts (sendmux-deactivator worker)\n',
        );
      }
    },
    onProgress: progress?.update,
  });
  progress?.stop();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify((await wire()).bulkRunView(pass, batch))}\n`);
  } else if (flags.wait) {
    process.stdout.write(`${describeBatch(batch)}\n`);
  }
  if (!flags.wait) return;
  if (!done) {
    const interrupted = signal?.aborted === true;
    process.stderr.write(
      `${interrupted ? 'interrupted' : `timed out after ${flags.waitTimeout ?? 0} s`}: the batch goes on; follow it with \`batch status ${pass.batchId}\`\n`,
    );
    process.exitCode = interrupted ? EXIT_INTERRUPTED : EXIT_WAIT_TIMEOUT;
    return;
  }
  if (batch.succeeded < batch.total) process.exitCode = EXIT_ACTION_FAILED;
}

function describePass(p: BulkPassResult): string {
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

function describeBatch(b: BatchRecord): string {
  const done = b.total - b.queued;
  return [
    `batch ${b.batch_id}: ${b.action}, ${b.total} accounts`,
    `  done ${done}/${b.total}: ${b.succeeded} succeeded, ${b.failed} failed, ${b.superseded} superseded, ${b.cancelled} cancelled; ${b.queued} queued`,
    `  skipped ${b.skipped}, invalid lines ${b.invalid}, repeated ids ${b.duplicates} (last pass)`,
    `  created ${b.created_at}, passes ${b.passes}, ${b.finished_at ? `finished ${b.finished_at}` : 'not finished'}`,
  ].join('\n');
}

/**
 * Progress while waiting: a bar on a terminal, a plain line every 5 s otherwise. The ETA uses
 * the observed rate, never faster than the rate budget allows.
 */
async function progressView(ratePerMinute: number): Promise<{
  update: (b: BatchRecord) => void;
  stop: () => void;
}> {
  const tty = process.stderr.isTTY;
  // Loaded only to draw a bar (not for every command of the CLI).
  const cliProgress = tty ? (await import('cli-progress')).default : undefined;
  const started = Date.now();
  let firstDone: number | undefined;
  let lastLine = 0;
  const bar = cliProgress
    ? new cliProgress.SingleBar(
        {
          format: '{bar} {value}/{total} | {rate}/s | ETA {eta_text} | failed {failed}',
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let barStarted = false;
  return {
    update(b) {
      const done = b.total - b.queued;
      firstDone ??= done;
      const elapsedS = Math.max(0.001, (Date.now() - started) / 1000);
      const observed = (done - firstDone) / elapsedS;
      const budget = ratePerMinute > 0 ? ratePerMinute / 60 : Infinity;
      const rate = Math.min(observed > 0 ? observed : budget, budget);
      const left = b.total - done;
      const eta = Number.isFinite(rate) && rate > 0 ? formatDuration(left / rate) : '?';
      const fields = { rate: observed.toFixed(1), eta_text: eta, failed: b.failed };
      if (bar) {
        if (!barStarted) {
          bar.start(b.total, done, fields);
          barStarted = true;
        }
        bar.setTotal(b.total);
        bar.update(done, fields);
        return;
      }
      const now = Date.now();
      if (now - lastLine < 5_000 && done < b.total) return;
      lastLine = now;
      process.stderr.write(
        `progress: ${done}/${b.total} done (${b.succeeded} succeeded, ${b.failed} failed), ${fields.rate}/s, ETA ${eta}\n`,
      );
    },
    stop() {
      bar?.stop();
    },
  };
}

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}
