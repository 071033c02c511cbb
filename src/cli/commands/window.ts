/** `window create|list|show|cancel|extend|delete`: shells over ops/windows.ts. */
import type { Command } from 'commander';
import type { WindowInput, WindowView } from '../../ops/windows.js';
import { actorOf, cliContext } from '../context.js';
import { formatDuration, table } from '../format.js';

const ops = () => import('../../ops/windows.js');
const wire = () => import('../../wire/windows.js');

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

function when(w: WindowView): string {
  const s = w.schedule;
  return s.kind === 'once'
    ? `${new Date(s.startMs).toISOString()} .. ${new Date(s.endMs).toISOString()}`
    : `"${s.cron}" ${s.tz} for ${formatDuration(s.durationMs)}`;
}

function targets(w: WindowView): string {
  return w.targets.kind === 'filter'
    ? `filter ${w.targets.text}`
    : `${w.targets.ids.length} account(s)`;
}

function row(w: WindowView) {
  const running = w.occurrences.find((o) => o.state === 'started' || o.state === 'starting');
  return {
    id: w.id,
    state: running ? `running since ${running.started_at ?? running.starts_at}` : w.state,
    when: when(w),
    accounts: targets(w),
    next_start: w.next_starts[0] ?? null,
    reason: w.reason || null,
  };
}

function details(w: WindowView): string {
  const lines = [
    `window ${w.id} (${w.state}${w.cancelled_at ? ` at ${w.cancelled_at}` : ''})`,
    `  when:     ${when(w)}`,
    `  accounts: ${w.targets.kind === 'filter' ? `filter ${w.targets.text}` : w.targets.ids.join(', ')}`,
    `  reason:   ${w.reason || '-'}`,
    `  next:     ${w.next_starts.join(', ') || '-'}`,
  ];
  for (const o of w.occurrences) {
    const switched = Object.values(o.start).filter((b) => b === 'switch_off').length;
    const back = Object.values(o.end).filter((d) => d.do === 'reactivate').length;
    lines.push(
      `  ${o.occurrence}  ${o.state.padEnd(8)} ${o.starts_at} .. ${o.ends_at}  switched off ${switched}` +
        (o.state === 'ended' ? `, reactivated ${back}${o.cancelled ? ' (cancelled)' : ''}` : ''),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function registerWindow(program: Command): void {
  const window = program
    .command('window')
    .description('maintenance windows: accounts off at the start, back on at the end');

  window
    .command('create')
    .description('plan a window: one-off (--start/--end) or recurring (--cron/--duration/--tz)')
    .option('--accounts <ids>', 'comma-separated sending account ids')
    .option('--filter <filter>', 'or the accounts the API lists at each start: status=...,type=...')
    .option('--start <iso>', 'one-off: ISO-8601 start with a zone (2026-12-06T02:00:00+01:00)')
    .option('--end <iso>', 'one-off: ISO-8601 end with a zone')
    .option('--cron <expr>', 'recurring: cron expression (5 fields, or 6 with seconds first)')
    .option('--duration <d>', 'recurring: how long each occurrence lasts (2h, 90m, 1h30m, 45s)')
    .option('--tz <zone>', 'recurring: IANA time zone of the cron expression (default UTC)')
    .option('--id <id>', 'the window id (default: generated)')
    .option('--reason <text>', 'why (kept with the holds and the intents)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  window create --accounts dprov_a,dprov_b --start 2026-12-06T02:00:00+01:00 --end 2026-12-06T04:00:00+01:00
  window create --accounts dprov_a --cron "0 2 * * 0" --duration 2h --tz Europe/Berlin --reason "smtp host migration"

At each start every account is read from the API and held off; the active ones are switched
off. At the end the holds go; an account comes back on only when nothing else still holds it
off and it was on before the first hold. Bad times, an end before the start, an unknown zone or
an invalid cron exit 2 naming the field; nothing is stored. The steps run in \`worker\` processes.`,
    )
    .action(
      async (
        {
          accounts,
          json,
          ...rest
        }: Omit<WindowInput, 'accounts'> & { accounts?: string; json?: boolean },
        cmd: Command,
      ) => {
        const { config } = cliContext();
        const w = await (
          await ops()
        ).createWindow(config, { ...rest, accounts: accounts?.split(',') }, actorOf(cmd));
        if (json) {
          print((await wire()).windowView(w));
          return;
        }
        process.stdout.write(
          `created window ${w.id}: ${targets(w)}, ${when(w)}; next start ${w.next_starts[0] ?? '-'}\n`,
        );
      },
    );

  window
    .command('list')
    .description('windows, newest first')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { config } = cliContext();
      const windows = await (await ops()).listWindows(config);
      if (flags.json) {
        print(windows.map((await wire()).windowView));
        return;
      }
      if (windows.length === 0) {
        process.stdout.write('no windows\n');
        return;
      }
      process.stdout.write(
        `${table(windows.map(row), ['id', 'state', 'when', 'accounts', 'next_start', 'reason'])}\n`,
      );
    });

  window
    .command('show')
    .description('a window: settings, next starts, its occurrences and what each did')
    .argument('<id>', 'window id')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const { config } = cliContext();
      const w = await (await ops()).showWindow(config, id);
      if (flags.json) print((await wire()).windowView(w));
      else process.stdout.write(details(w));
    });

  window
    .command('cancel')
    .description('a future window is removed; a running one ends now (its accounts come back)')
    .argument('<id>', 'window id')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { json?: boolean }, cmd: Command) => {
      const { config } = cliContext();
      const r = await (await ops()).cancelWindow(config, id, actorOf(cmd));
      if (flags.json) {
        print((await wire()).windowCancelView(r));
        return;
      }
      process.stdout.write(
        r.was === 'cancelled'
          ? `window ${id} was cancelled already\n`
          : r.was === 'over'
            ? `window ${id} had run its course; cancelled (nothing changed)\n`
            : r.was === 'running'
              ? `cancelled window ${id}; ended its running occurrence ${r.ended.join(', ')} now\n`
              : `cancelled window ${id}; nothing will start\n`,
      );
    });

  window
    .command('delete')
    .description(
      'remove a window that holds nothing (over, not yet started, cancelled): its records and jobs',
    )
    .argument('<id>', 'window id')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Holds and accounts are not touched: a window that is over released its holds at its end. A
window whose occurrence is running holds its accounts off: it is refused (exit 1); run
\`window cancel <id>\` first (its accounts come back), then delete it. An unknown id exits 4.
The deletion is recorded on the events stream (\`window.deleted\`, with who asked).`,
    )
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const { config } = cliContext();
      const r = await (await ops()).deleteWindow(config, id, actorOf(command));
      if (flags.json) print((await wire()).windowDeleteView(r));
      else process.stdout.write(`deleted window ${id} (it was ${r.was})\n`);
    });

  window
    .command('extend')
    .description("move the end of a one-off window, or of a recurring window's running occurrence")
    .argument('<id>', 'window id')
    .requiredOption('--end <iso>', 'the new end, ISO-8601 with a zone')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { end: string; json?: boolean }) => {
      const { config } = cliContext();
      const w = await (await ops()).extendWindow(config, id, flags.end);
      if (flags.json) print((await wire()).windowView(w));
      else process.stdout.write(`window ${id} now ends ${flags.end}\n`);
    });
}
