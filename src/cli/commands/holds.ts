/** `holds [account...]`: what keeps accounts off (a shell over ops/holds.ts). */
import type { Command } from 'commander';
import { cliContext } from '../context.js';
import { table } from '../format.js';
import { intOption } from '../options.js';

export function registerHolds(program: Command): void {
  program
    .command('holds')
    .description(
      'what keeps accounts off: each hold (breaker, window, bulk run, manual), who took it (by), and the base (what the account is without holds: it goes back to it when the last hold goes)',
    )
    .argument('[account...]', 'sending account ids (default: every held account)')
    .option('--limit <n>', 'how many accounts without ids', intOption('--limit', 1, 100_000), 1000)
    .option('--json', 'print JSON')
    .action(async (accounts: string[], flags: { json?: boolean; limit: number }) => {
      const { config } = cliContext();
      const { accountHolds } = await import('../../ops/holds.js');
      const all = await accountHolds(config, accounts, flags.limit);
      if (flags.json) {
        const { accountHoldsView } = await import('../../wire/accounts.js');
        process.stdout.write(`${JSON.stringify(all.map(accountHoldsView), null, 2)}\n`);
        return;
      }
      const rows = all.flatMap((a) =>
        a.holds.length === 0
          ? [
              {
                account: a.accountId,
                hold: '-',
                source: '-',
                by: '-',
                since: '-',
                before: '-',
                reason: '',
              },
            ]
          : a.holds.map((h) => ({
              account: a.accountId,
              hold: h.id,
              source: h.source,
              by: h.actor ?? '-',
              since: h.at,
              before: a.before,
              reason: h.reason,
            })),
      );
      if (rows.length === 0) {
        process.stdout.write('no account is held off\n');
        return;
      }
      process.stdout.write(
        `${table(rows, ['account', 'hold', 'source', 'by', 'since', 'before', 'reason'])}\n`,
      );
      // An unknown base is never switched on by itself: say so, and what does.
      const unknown = all.filter((a) => a.holds.length > 0 && a.before === 'unknown');
      if (unknown.length > 0) {
        process.stdout.write(
          `\nbase unknown (never read, nothing recorded): ${unknown.map((a) => a.accountId).join(', ')} will stay off when the last hold goes; \`sendmux-deactivator activate <account>\` switches one back on\n`,
        );
      }
    });
}
