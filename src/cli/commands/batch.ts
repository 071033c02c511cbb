/**
 * `batch status|cancel|undo|list|report`: inspect, cancel or undo bulk runs. Shells over
 * ops/bulk.ts, ops/batch-cancel.ts and ops/batch-undo.ts; their text is in ../bulk-text.ts.
 */
import type { Command } from 'commander';
import { NotFoundError, UsageError } from '../../errors.js';
import { undoProgress } from '../bulk-progress.js';
import { describeBatch, describeUndo, undoColumn } from '../bulk-text.js';
import { actorOf, cliContext, stopSignal } from '../context.js';
import { EXIT_ACTION_FAILED, EXIT_INTERRUPTED, EXIT_WAIT_TIMEOUT } from '../exit-codes.js';
import { formatDuration, table } from '../format.js';
import { enumOption, intOption } from '../options.js';
import { writeOut } from '../output.js';

/** The library's bulk functions, loaded when a command runs (not for every command's start). */
const ops = () => import('../../ops/bulk.js');
/** The JSON views (`--json`), loaded when printing. */
const wire = () => import('../../wire/batches.js');
/** Cancel and undo: only for those commands (they load what records outcomes). */
const cancelOps = () => import('../../ops/batch-cancel.js');
const undoOps = () => import('../../ops/batch-undo.js');

export function registerBatch(program: Command): void {
  const batch = program.command('batch').description('inspect, cancel or undo bulk runs');
  batch
    .command('status')
    .description("a batch's counters, times and actors, and its undo (state, who, counts)")
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
    .action(async (batchId: string, flags: { json?: boolean }, command: Command) => {
      const { config } = cliContext();
      const { getBatch, noSuchBatch } = await ops();
      if (!(await getBatch(config, batchId))) throw new NotFoundError(noSuchBatch(batchId));
      const r = await (await cancelOps()).cancelBatch(config, batchId, actorOf(command));
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
    .action(async (batchId: string, flags: UndoFlags, command: Command) => {
      await runUndoCommand(batchId, flags, actorOf(command));
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
      const rows = records.map((r) => ({ ...r, undo: undoColumn(r) }));
      process.stdout.write(
        `${table(rows, ['batch_id', 'action', 'total', 'succeeded', 'failed', 'queued', 'created_at', 'finished_at', 'undo'])}\n`,
      );
    });
  batch
    .command('report')
    .description(
      'one row per account of a batch, by account id: what the run did (outcome, status, error code, HTTP status, ...) and the account now (status_now, held_by, undo, undo_activation)',
    )
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

/**
 * Kept in step with UNDO_ACCOUNTS_SHOWN (ops/batch-undo.ts), which the help cannot import
 * eagerly.
 */
const UNDO_SHOWN = 1000;
async function runUndoCommand(batchId: string, flags: UndoFlags, actor: string): Promise<void> {
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
    actor,
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
    onProgress: flags.wait && !flags.json ? undoProgress(config.rateLimitPerMinute) : undefined,
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
      `${interrupted ? 'interrupted' : `timed out after ${formatDuration((flags.waitTimeout ?? 0) * 1000)}`}: the activations stay queued; follow them with \`events\` or \`status\`\n`,
    );
    process.exitCode = interrupted ? EXIT_INTERRUPTED : EXIT_WAIT_TIMEOUT;
    return;
  }
  if (a.succeeded < a.total) process.exitCode = EXIT_ACTION_FAILED;
}
