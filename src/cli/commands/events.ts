import type { Command } from 'commander';
import { EVENT_TYPES, type ActionEvent, type EventType } from '../../model.js';
import { cliContext, stopSignal } from '../context.js';
import { enumOption, intOption } from '../options.js';

function line(e: ActionEvent): string {
  const outcome =
    e.type === 'action.succeeded'
      ? `-> ${e.account_status ?? '?'}`
      : `FAILED ${e.http_status ?? '-'} ${e.error_code ?? ''}`;
  return `${e.at}  ${e.type.padEnd(16)}  ${e.action.padEnd(10)} ${e.provider_id}  ${outcome}  key=${e.idempotency_key} attempts=${e.attempts} request=${e.request_id ?? '-'}`;
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('recent action events, oldest first; --follow keeps printing new ones')
    .option('--type <type>', `only ${EVENT_TYPES.join(' or ')}`, enumOption('--type', EVENT_TYPES))
    .option('--limit <n>', 'how many recent events', intOption('--limit', 1, 1_000_000), 100)
    .option('--follow', 'keep printing new events until SIGINT')
    .option('--json', 'one JSON object per line')
    .action(
      async (flags: { type?: EventType; limit: number; follow?: boolean; json?: boolean }) => {
        const { config } = cliContext();
        const signal = flags.follow ? stopSignal() : undefined;
        const { readEvents } = await import('../../ops/read-events.js');
        await readEvents(
          config,
          {
            type: flags.type,
            limit: flags.limit,
            follow: flags.follow,
            signal,
            onFollowing: () => {
              process.stderr.write('following new events (Ctrl-C to stop)\n');
            },
          },
          (event) => {
            process.stdout.write(`${flags.json ? JSON.stringify(event) : line(event)}\n`);
          },
        );
      },
    );
}
