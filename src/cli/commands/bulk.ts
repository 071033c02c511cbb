/**
 * `bulk`: start or resume a bulk run (ids from a file, a list or a filter), or dry-run it; with
 * `--wait`, follow it to the end. A shell over ops/bulk.ts; its text is in ../bulk-text.ts, its
 * progress bar in ../bulk-progress.ts. The `batch` commands are in batch.ts.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { ACTIONS, type Action } from '../../model.js';
import { parseFilter } from '../../producers/bulk/accounts.js';
import { DEFAULT_CHUNK, type BulkSource } from '../../producers/bulk/run.js';
import { progressView } from '../bulk-progress.js';
import { describeBatch, describeDryRun, describePass } from '../bulk-text.js';
import { actorOf, cliContext, stopSignal } from '../context.js';
import {
  EXIT_ACTION_FAILED,
  EXIT_INTERRUPTED,
  EXIT_INVALID,
  EXIT_WAIT_TIMEOUT,
} from '../exit-codes.js';
import { formatDuration } from '../format.js';
import { limitHeapGrowth } from '../heap.js';
import { enumOption, intOption } from '../options.js';

/** The library's bulk functions, loaded when a command runs (not for every command's start). */
const ops = () => import('../../ops/bulk.js');
/** The JSON views (`--json`), loaded when printing. */
const wire = () => import('../../wire/batches.js');

interface BulkFlags {
  action: Action;
  file?: string;
  ids?: string;
  filter?: string;
  includeShared?: boolean;
  dryRun?: boolean;
  verbose?: boolean;
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
    .option(
      '--verbose',
      'with --dry-run: name every account of each kind (default: the first 10; --json names all)',
    )
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
    .action(async (flags: BulkFlags, cmd: Command) => {
      await runBulkCommand(flags, actorOf(cmd));
    });
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
  process.stdout.write(`${describeDryRun(report, flags.verbose ?? false)}\n`);
}

async function runBulkCommand(flags: BulkFlags, actor: string): Promise<void> {
  if (flags.waitTimeout !== undefined && !flags.wait) {
    throw new UsageError('--wait-timeout: needs --wait');
  }
  if (flags.verbose && !flags.dryRun) throw new UsageError('--verbose: needs --dry-run');
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
    actor,
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
      `${interrupted ? 'interrupted' : `timed out after ${formatDuration((flags.waitTimeout ?? 0) * 1000)}`}: the batch goes on; follow it with \`batch status ${pass.batchId}\`\n`,
    );
    process.exitCode = interrupted ? EXIT_INTERRUPTED : EXIT_WAIT_TIMEOUT;
    return;
  }
  if (batch.succeeded < batch.total) process.exitCode = EXIT_ACTION_FAILED;
}
