import type { Command } from 'commander';
import { cliContext } from '../context.js';
import { EXIT_ACTION_FAILED } from '../exit-codes.js';
import { table } from '../format.js';
import { intOption } from '../options.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('recorded status of accounts (all recently changed ones when no id is given)')
    .argument('[providerId...]', 'sending account ids')
    .option('--limit <n>', 'how many accounts without ids', intOption('--limit', 1, 100_000), 1000)
    .option('--json', 'print a JSON array')
    .action(async (providerIds: string[], flags: { json?: boolean; limit: number }) => {
      const { config } = cliContext();
      const { accountStatusWithHolds } = await import('../../ops/account-status.js');
      const statuses = await accountStatusWithHolds(config, providerIds, flags.limit);
      const missing = providerIds.filter((id) => !statuses.some((s) => s.provider_id === id));
      for (const id of missing) {
        process.stderr.write(`no recorded status for ${id} (no action on it has finished yet)\n`);
      }
      // Like `gh` for what it cannot find: a script can tell "not found" from "found".
      if (missing.length > 0) process.exitCode = EXIT_ACTION_FAILED;
      if (statuses.length === 0 && providerIds.length > 0) return;
      if (flags.json) {
        const { accountView } = await import('../../wire/accounts.js');
        process.stdout.write(`${JSON.stringify(statuses.map(accountView), null, 2)}\n`);
        return;
      }
      const rows = statuses.map((s) => ({ ...s, last_error: s.last_error?.code ?? null }));
      process.stdout.write(
        `${table(rows, ['provider_id', 'status', 'is_active', 'updated_at', 'last_action', 'last_outcome', 'last_error', 'idempotency_key'])}\n`,
      );
    });
}
