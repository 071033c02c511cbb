import type { Command } from 'commander';
import type { Action } from '../../actions/intent.js';
import { enqueueActions, type ActionReport } from '../../commands/enqueue-actions.js';
import { cliContext } from '../context.js';
import { EXIT_ACTION_FAILED } from '../exit-codes.js';
import { table } from '../format.js';
import { intOption } from '../options.js';

interface ActionFlags {
  key?: string;
  reason?: string;
  wait?: boolean;
  waitTimeout?: number;
  json?: boolean;
}

export function registerActions(program: Command): void {
  for (const action of ['deactivate', 'activate'] as const) {
    program
      .command(action)
      .description(`${action} sending accounts through the queue`)
      .argument('<providerId...>', 'sending account ids (dprov_...)')
      .option(
        '--key <key>',
        'idempotency key (only with one id; default: a fresh UUID-based key per id)',
      )
      .option('--reason <text>', 'why, recorded with the status and events')
      .option('--wait', 'block until each action succeeded or failed; exit 1 if any failed')
      .option(
        '--wait-timeout <seconds>',
        'give up waiting after this many seconds',
        intOption('--wait-timeout', 1),
      )
      .option('--json', 'print a JSON array of results')
      .action(async (providerIds: string[], flags: ActionFlags) => {
        await runActionCommand(action, providerIds, flags);
      });
  }
}

async function runActionCommand(
  action: Action,
  providerIds: string[],
  flags: ActionFlags,
): Promise<void> {
  const { config } = cliContext();
  const reports = await enqueueActions(config, {
    action,
    providerIds,
    key: flags.key,
    reason: flags.reason,
    wait: flags.wait,
    waitTimeoutMs: flags.waitTimeout === undefined ? undefined : flags.waitTimeout * 1000,
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  } else {
    const columns: (keyof ActionReport)[] = flags.wait
      ? ['provider_id', 'state', 'http_status', 'error_code', 'idempotency_key']
      : ['provider_id', 'enqueue', 'idempotency_key', 'job_id'];
    process.stdout.write(`${table(reports, columns)}\n`);
  }
  if (flags.wait && reports.some((r) => r.state !== 'succeeded')) {
    process.exitCode = EXIT_ACTION_FAILED;
  }
}
