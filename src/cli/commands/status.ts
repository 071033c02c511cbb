import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import { cliContext } from '../context.js';
import { EXIT_NOT_FOUND } from '../exit-codes.js';
import { table } from '../format.js';
import { intOption } from '../options.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('recorded status of accounts (all recently changed ones when no id is given)')
    .argument('[account...]', 'sending account ids')
    .option('--limit <n>', 'how many accounts without ids', intOption('--limit', 1, 100_000), 1000)
    .option('--json', 'print a JSON array')
    .action(async (accountIds: string[], flags: { json?: boolean; limit: number }) => {
      const { config } = cliContext();
      const { accountStatusWithHolds } = await import('../../ops/account-status.js');
      const statuses = await accountStatusWithHolds(config, accountIds, flags.limit);
      const missing = accountIds.filter((id) => !statuses.some((s) => s.account_id === id));
      const noStatus = (id: string) =>
        `account "${id}": no recorded status (no action on it has finished yet)`;
      // None found: `not_found`. Some: those found are printed, the others named on stderr, and
      // the exit code is still 4, so a script can tell "all found" from "not all".
      if (statuses.length === 0 && accountIds.length > 0) {
        throw new NotFoundError(missing.map(noStatus).join('; '));
      }
      for (const id of missing) process.stderr.write(`${noStatus(id)}\n`);
      if (missing.length > 0) process.exitCode = EXIT_NOT_FOUND;
      if (flags.json) {
        const { accountView } = await import('../../wire/accounts.js');
        process.stdout.write(`${JSON.stringify(statuses.map(accountView), null, 2)}\n`);
        return;
      }
      const rows = statuses.map((s) => ({ ...s, last_error: s.last_error?.code ?? null }));
      process.stdout.write(
        `${table(rows, ['account_id', 'status', 'is_active', 'updated_at', 'last_action', 'last_outcome', 'last_error', 'idempotency_key'])}\n`,
      );
    });
}
