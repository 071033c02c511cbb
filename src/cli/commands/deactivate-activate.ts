import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { ACTIONS, type Action } from '../../model.js';
import type { ActionReport } from '../../ops/enqueue-actions.js';
import type { WaitProgress } from '../../queue/wait.js';
import { actorOf, cliContext, stopSignal } from '../context.js';
import { EXIT_ACTION_FAILED, EXIT_INTERRUPTED, EXIT_WAIT_TIMEOUT } from '../exit-codes.js';
import { formatDuration, table } from '../format.js';
import { intOption } from '../options.js';

interface ActionFlags {
  key?: string;
  reason?: string;
  wait?: boolean;
  waitTimeout?: number;
  json?: boolean;
}

export function registerActions(program: Command): void {
  for (const action of ACTIONS) {
    program
      .command(action)
      .description(
        action === 'deactivate'
          ? 'deactivate sending accounts through the queue; each gets the hold "manual" (see `holds`)'
          : `activate sending accounts through the queue, releasing their hold "manual"; an account another source still holds off (breaker, window, bulk run) is not activated: it is listed with those holds, and the exit code is ${EXIT_ACTION_FAILED}`,
      )
      .argument('<account...>', 'sending account ids (dprov_...)')
      .option(
        '--key <key>',
        'idempotency key (only with one id; default: a fresh UUID-based key per id)',
      )
      .option('--reason <text>', 'why, recorded with the status and events')
      .option(
        '--wait',
        `block until each action finished; exit ${EXIT_ACTION_FAILED} if any failed or was superseded`,
      )
      .option(
        '--wait-timeout <seconds>',
        `with --wait: give up waiting after this many seconds (exit ${EXIT_WAIT_TIMEOUT})`,
        intOption('--wait-timeout', 1),
      )
      .option('--json', 'print a JSON array of results')
      .action(async (accountIds: string[], flags: ActionFlags, cmd: Command) => {
        await runActionCommand(action, accountIds, flags, actorOf(cmd));
      });
  }
}

async function runActionCommand(
  action: Action,
  accountIds: string[],
  flags: ActionFlags,
  actor: string,
): Promise<void> {
  if (flags.waitTimeout !== undefined && !flags.wait) {
    throw new UsageError('--wait-timeout: needs --wait');
  }
  if (flags.key !== undefined && new Set(accountIds).size !== 1) {
    throw new UsageError(
      `--key: can only be used with exactly one account id (got ${new Set(accountIds).size})`,
    );
  }
  const { config } = cliContext();
  const signal = flags.wait ? stopSignal() : undefined;
  const { enqueueActions } = await import('../../ops/enqueue-actions.js');
  const { reports, done } = await enqueueActions(config, {
    action,
    accountIds,
    key: flags.key,
    reason: flags.reason,
    actor,
    wait: flags.wait,
    waitTimeoutMs: flags.waitTimeout === undefined ? undefined : flags.waitTimeout * 1000,
    signal,
    onProgress: flags.wait ? progressPrinter() : undefined,
    onEnqueued: (enqueued, again, workers, warnings) => {
      for (const w of warnings) process.stderr.write(`note: ${w}\n`);
      if (again.length > 0) {
        process.stderr.write(`note: asked once for each repeated id: ${again.join(', ')}\n`);
      }
      for (const r of enqueued) {
        if (r.enqueue === 'held') {
          process.stderr.write(
            `${r.account_id}: not activated, still held off by ${r.held_by.join(', ')}\n`,
          );
        }
      }
      if (flags.wait) {
        // Printed before waiting, so an interrupted wait never loses the keys.
        for (const r of enqueued) {
          if (r.enqueue === 'held') continue;
          process.stderr.write(`${r.enqueue}: ${r.account_id} key=${r.idempotency_key}\n`);
        }
        const waiting = enqueued.filter((r) => r.enqueue !== 'held').length;
        if (waiting > 0) process.stderr.write(`waiting for ${waiting} action(s)...\n`);
        if (workers === 0) {
          process.stderr.write(
            'warning: no worker is connected to the queue: nothing will run until one starts (sendmux-deactivator worker)\n',
          );
        }
      }
    },
  });
  if (flags.json) {
    const { actionReportView } = await import('../../wire/actions.js');
    process.stdout.write(`${JSON.stringify(reports.map(actionReportView), null, 2)}\n`);
  } else {
    const columns: (keyof ActionReport)[] = flags.wait
      ? ['account_id', 'state', 'http_status', 'error_code', 'idempotency_key']
      : ['account_id', 'enqueue', 'idempotency_key', 'job_id'];
    process.stdout.write(`${table(reports, columns)}\n`);
  }
  const held = reports.filter((r) => r.enqueue === 'held');
  if (held.length > 0) {
    process.stderr.write(
      `${held.length} account(s) not activated: their own "manual" hold (if any) is released; they come back on when the holds above are released (breaker reset, the window's end, batch undo), if they were active before the first hold\n`,
    );
    process.exitCode = EXIT_ACTION_FAILED;
  }
  if (!flags.wait) return;
  if (!done) {
    const interrupted = signal?.aborted === true;
    process.stderr.write(
      interrupted
        ? 'interrupted: the actions stay queued; follow them with `status` or `events`\n'
        : `timed out after ${formatDuration((flags.waitTimeout ?? 0) * 1000)}: the actions stay queued; follow them with \`status\` or \`events\`\n`,
    );
    process.exitCode = interrupted ? EXIT_INTERRUPTED : EXIT_WAIT_TIMEOUT;
    return;
  }
  if (reports.some((r) => r.state !== 'succeeded')) process.exitCode = EXIT_ACTION_FAILED;
}

/** Progress on stderr: a line when something changed, at most every 2 s (and the last one). */
function progressPrinter(): (p: WaitProgress) => void {
  let last = '';
  let lastAt = 0;
  return (p) => {
    const done = p.succeeded + p.failed + p.superseded + p.cancelled;
    const line = `progress: ${done}/${p.total} done (${p.succeeded} succeeded, ${p.failed} failed, ${p.superseded} superseded${p.cancelled > 0 ? `, ${p.cancelled} cancelled` : ''})`;
    const now = Date.now();
    if (line === last || (now - lastAt < 2_000 && done < p.total)) return;
    last = line;
    lastAt = now;
    process.stderr.write(`${line}\n`);
  };
}
