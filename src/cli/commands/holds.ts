/** `holds [account...]`: what keeps accounts off (a shell over ops/holds.ts). */
import type { Command } from 'commander';
import { cliContext } from '../context.js';
import { table } from '../format.js';
import { intOption } from '../options.js';

export function registerHolds(program: Command): void {
  program
    .command('holds')
    .description(
      'what keeps accounts off: each hold (breaker, window, bulk run, manual), who took it (by), the base (what the account is without holds: it goes back to it when the last hold goes), and whether it is still on (its deactivation failed: the failure and the command that retries it or lets it go)',
    )
    .argument('[account...]', 'sending account ids (default: every held account)')
    .option('--limit <n>', 'how many accounts without ids', intOption('--limit', 1, 100_000), 1000)
    .option('--json', 'print JSON')
    .action(async (accounts: string[], flags: { json?: boolean; limit: number }) => {
      const { config } = cliContext();
      const { accountHolds } = await import('../../ops/holds.js');
      const all = await accountHolds(config, accounts, flags.limit);
      if (flags.json) {
        const { heldAccountView } = await import('../../wire/accounts.js');
        process.stdout.write(`${JSON.stringify(all.map(heldAccountView), null, 2)}\n`);
        return;
      }
      const none = {
        hold: '-',
        source: '-',
        by: '-',
        since: '-',
        before: '-',
        state: '-',
        reason: '',
      };
      const rows = all.flatMap((a) =>
        a.holds.length === 0
          ? [{ account: a.accountId, ...none }]
          : a.holds.map((h) => ({
              account: a.accountId,
              hold: h.id,
              source: h.source,
              by: h.actor ?? '-',
              since: h.at,
              before: a.before,
              state: a.still_on ? 'STILL ON' : 'held',
              reason: h.reason,
            })),
      );
      if (rows.length === 0) {
        process.stdout.write('no account is held off\n');
        return;
      }
      process.stdout.write(
        `${table(rows, ['account', 'hold', 'source', 'by', 'since', 'before', 'state', 'reason'])}\n`,
      );
      // Held is not off: a held account whose deactivation failed is still sending.
      for (const a of all.filter((x) => x.still_on)) {
        const f = a.last_failure;
        process.stdout.write(
          `\n${a.accountId}: held, STILL ON` +
            (f ? ` (deactivation failed ${f.at}: ${f.error_code}: ${f.error_message})` : '') +
            (a.next_step ? `\n  next: ${a.next_step}` : '') +
            '\n',
        );
      }
      // An unknown base is never switched on by itself: say so, and what does.
      const unknown = all.filter((a) => a.holds.length > 0 && a.before === 'unknown');
      if (unknown.length > 0) {
        process.stdout.write(
          `\nbase unknown (never read, nothing recorded): ${unknown.map((a) => a.accountId).join(', ')} will stay off when the last hold goes; \`sendmux-deactivator activate <account>\` switches one back on\n`,
        );
      }
    });
}
