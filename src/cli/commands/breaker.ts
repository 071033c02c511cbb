/** `breaker status|trip|reset|backtest` and `signal`: shells over ops/breaker.ts and ops/backtest.ts. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import {
  BREAKER_MODES,
  SIGNAL_OUTCOMES,
  type BreakerMode,
  type SignalOutcome,
} from '../../model.js';
import type { BreakerStatus } from '../../ops/breaker.js';
import { actorOf, cliContext, stopSignal } from '../context.js';
import { table } from '../format.js';
import { enumOption, intOption } from '../options.js';
import { writeOut } from '../output.js';

const ops = () => import('../../ops/breaker.js');
const wire = () => import('../../wire/breakers.js');

/** A mode argument: act | warn | watch, or `clear` (null). */
function parseMode(text: string): BreakerMode | null {
  if (text === 'clear') return null;
  if ((BREAKER_MODES as readonly string[]).includes(text)) return text as BreakerMode;
  throw new UsageError(`mode: must be ${BREAKER_MODES.join(', ')} or clear; got "${text}"`);
}

const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(2)}%`);

function summary(s: BreakerStatus) {
  return {
    account: s.account_id,
    state: s.state,
    mode: s.mode.mode,
    warning: s.warning,
    bounce_rate: `${pct(s.window.bounce_rate)} (${s.window.hard_bounced}/${s.window.delivered + s.window.bounced})`,
    complaint_rate: `${pct(s.window.complaint_rate)} (${s.window.complained}/${s.window.delivered})`,
    trips: s.trips,
    last_trip: s.last_trip ? `${s.last_trip.at} ${s.last_trip.reason}` : null,
    holds: s.holds.holds.map((h) => h.id).join(',') || null,
  };
}

export function registerBreaker(program: Command): void {
  const breaker = program
    .command('breaker')
    .description('the bounce-spike circuit breaker: status, manual trip, reset, mode, backtest');

  breaker
    .command('status')
    .description("an account's breaker (state, rates over the window, last trip, holds), or all")
    .argument('[account]', 'sending account id (default: every account with breaker activity)')
    .option(
      '--limit <n>',
      'how many accounts without an id',
      intOption('--limit', 1, 100_000),
      1000,
    )
    .option('--json', 'print JSON')
    .action(async (account: string | undefined, flags: { json?: boolean; limit: number }) => {
      const { config } = cliContext();
      const statuses = await (await ops()).breakerStatus(config, account, flags.limit);
      if (flags.json) {
        const { breakerView } = await wire();
        const views = statuses.map(breakerView);
        const out = account === undefined ? views : views[0];
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      if (statuses.length === 0) {
        process.stdout.write('no breaker activity yet\n');
        return;
      }
      process.stdout.write(
        `${table(statuses.map(summary), ['account', 'state', 'mode', 'warning', 'bounce_rate', 'complaint_rate', 'trips', 'last_trip', 'holds'])}\n`,
      );
    });

  breaker
    .command('trip')
    .description('switch an account off now: breaker open, hold taken, deactivation enqueued first')
    .argument('<account>', 'sending account id')
    .option('--reason <text>', 'why (kept with the hold)', 'manual trip')
    .option('--json', 'print JSON')
    .action(async (account: string, flags: { reason: string; json?: boolean }, cmd: Command) => {
      const { config } = cliContext();
      const { tripBreaker, breakerRefusal } = await ops();
      const r = await tripBreaker(config, account, flags.reason, actorOf(cmd));
      if (r.result !== 'tripped') throw breakerRefusal(account, 'trip');
      if (flags.json) {
        process.stdout.write(`${JSON.stringify((await wire()).tripView(account, r))}\n`);
        return;
      }
      process.stdout.write(
        `tripped ${account} (trip ${r.tripId}); deactivation enqueued with key ${r.idempotencyKey}\n`,
      );
    });

  breaker
    .command('reset')
    .description("close an account's breaker; it comes back on only if nothing else holds it off")
    .argument('<account>', 'sending account id')
    .option('--json', 'print JSON')
    .action(async (account: string, flags: { json?: boolean }, cmd: Command) => {
      const { config } = cliContext();
      const { resetBreaker, breakerRefusal } = await ops();
      const r = await resetBreaker(config, account, actorOf(cmd));
      if (r.result === 'not_open') throw breakerRefusal(account, 'reset');
      if (flags.json) {
        process.stdout.write(`${JSON.stringify((await wire()).resetView(account, r))}\n`);
        return;
      }
      const held = r.hold.released && !r.hold.last ? r.hold.heldBy : [];
      process.stdout.write(
        r.activateKey
          ? `reset ${account}; activation enqueued with key ${r.activateKey}\n`
          : held.length > 0
            ? `reset ${account}; it stays off: still held by ${held.join(', ')}\n`
            : r.hold.released && r.hold.last && r.hold.before === 'unknown'
              ? `reset ${account}; it stays off: what it is without holds is unknown (never read, nothing recorded); \`sendmux-deactivator activate ${account}\` switches it on\n`
              : `reset ${account}; it stays off (it is off without holds)\n`,
      );
    });

  breaker
    .command('backtest')
    .description(
      "replay history through the rules: per account, when it would have warned and tripped (every account taken as mode act; operators' resets cannot be known)",
    )
    .option(
      '--from <source>',
      'file | redis (the webhook inbox still held) | logs (GET /emails/logs)',
      enumOption('--from', ['file', 'redis', 'logs'] as const),
      'file',
    )
    .option(
      '--file <path>',
      'NDJSON of signals (as POST /v1/signals takes them) or webhook bodies; - for stdin',
    )
    .option(
      '--rules <[name=]path>',
      'a candidate rule set (JSON: {"global": {...}, "accounts": {"dprov_...": {...}}}, fields as in BREAKER_ACCOUNT_RULES); repeat to compare several beside the current settings',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--since <time>', 'for --from logs: ISO 8601, or 90m, 24h, 7d before now')
    .option('--until <time>', 'for --from logs: the end (default now)')
    .option(
      '--sender-map <path>',
      "a JSON file of senders -> accounts for webhook bodies (default BREAKER_SENDER_MAP); the API isn't asked",
    )
    .option('--strict', 'a line that is not a signal is an error (exit 2), not skipped')
    .addHelpText(
      'after',
      `
Each rule set is replayed with every account in mode act: a trip is what the rules would do
if acting (in mode warn or watch the live breaker records breaker.would_trip instead). The
current settings are the rule set "current". A replay cannot know of resets by hand: with
BREAKER_COOLDOWN_S=0 a tripped account stays open to the end of the history; with a cooldown
it goes half-open and closes as the live breaker would. A --file is held in memory and
replayed in occurred_at order.`,
    )
    .option('--json', 'print JSON')
    .action(
      async (flags: {
        from: 'file' | 'redis' | 'logs';
        file?: string;
        rules: string[];
        since?: string;
        until?: string;
        senderMap?: string;
        strict?: boolean;
        json?: boolean;
      }) => {
        const { config } = cliContext();
        const { breakerBacktest } = await import('../../ops/backtest.js');
        const view = await breakerBacktest(config, {
          from: flags.from,
          file: flags.file,
          rules: flags.rules,
          since: flags.since,
          until: flags.until,
          senderMap: flags.senderMap,
          strict: flags.strict,
          signal: stopSignal(),
        });
        if (flags.json) {
          await writeOut(`${JSON.stringify(view, null, 2)}\n`);
          return;
        }
        const { backtestText } = await import('../backtest-text.js');
        await writeOut(backtestText(view));
      },
    );

  breaker
    .command('mode')
    .description(
      'show or set what a crossing of the trip level does: act (trip), warn (breaker.would_trip + notify), watch (breaker.would_trip only)',
    )
    .argument('[account]', 'sending account id (omit with --default)')
    .argument('[mode]', `${BREAKER_MODES.join(' | ')} | clear (back to the settings)`)
    .option('--default', 'the default mode (every account without one of its own)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Without a mode: prints the modes (the default, and accounts with their own). The mode an
account runs in, most specific first: its run-time mode (breaker mode <account> <mode>), its
mode in BREAKER_ACCOUNT_RULES, the run-time default (breaker mode --default <mode>), BREAKER_MODE.
A change is recorded as a breaker.mode_changed event with --actor; a manual breaker trip always acts.

Examples:
  sendmux-deactivator breaker mode --default watch
  sendmux-deactivator breaker mode dprov_abc act
  sendmux-deactivator breaker mode dprov_abc clear`,
    )
    .action(
      async (
        first: string | undefined,
        second: string | undefined,
        flags: { default?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const { config } = cliContext();
        const { setBreakerMode, breakerModes } = await ops();
        const { breakerModesView, modeChangeView } = await wire();
        const [account, modeText] = flags.default ? [null, first] : [first ?? null, second];
        if (flags.default && second !== undefined) {
          throw new UsageError(
            `mode: with --default give only the mode (got "${first}" "${second}")`,
          );
        }
        if (modeText === undefined) {
          const modes = await breakerModes(config);
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(breakerModesView(modes), null, 2)}\n`);
            return;
          }
          const mine =
            account === null
              ? modes.accounts
              : modes.accounts.filter((a) => a.account_id === account);
          const fromText = (f: 'runtime' | 'settings', settingsName: string) =>
            f === 'runtime' ? 'set at run time' : `from ${settingsName}`;
          const lines = [
            `default: ${modes.default.mode} (${modes.default.from === 'runtime' ? `set at run time; BREAKER_MODE is ${modes.default.settings}` : 'from BREAKER_MODE'})`,
            ...(account !== null && mine.length === 0
              ? [`${account}: ${modes.default.mode} (the default)`]
              : mine.map(
                  (a) =>
                    `${a.account_id}: ${a.mode} (${fromText(a.from, 'BREAKER_ACCOUNT_RULES')})`,
                )),
          ];
          process.stdout.write(`${lines.join('\n')}\n`);
          return;
        }
        if (account === null && !flags.default) {
          throw new UsageError('account: give an account id, or --default for the default mode');
        }
        const mode = parseMode(modeText);
        const change = await setBreakerMode(config, account, mode, actorOf(cmd));
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(modeChangeView(change))}\n`);
          return;
        }
        const who = account ?? 'the default';
        process.stdout.write(
          !change.changed
            ? `${who}: ${mode ?? 'no run-time mode'} already; nothing changed\n`
            : mode === null
              ? `${who}: run-time mode ${change.previous ?? '-'} cleared; the settings apply\n`
              : `${who}: ${change.previous ?? '(settings)'} -> ${mode}\n`,
        );
      },
    );

  program
    .command('signal')
    .description("count one delivery signal for an account (the user's own pipeline)")
    .argument('<account>', 'sending account id')
    .argument('<outcome>', SIGNAL_OUTCOMES.join(' | '), enumOption('<outcome>', SIGNAL_OUTCOMES))
    .requiredOption('--id <id>', 'the signal id (a retried signal with the same id counts once)')
    .option(
      '--bounce-type <type>',
      'for bounced: Permanent (a hard bounce) | Transient | Undetermined; without it a bounce counts as soft',
    )
    .option('--occurred-at <iso>', 'when it happened (default: now)')
    .option('--json', 'print JSON')
    .action(
      async (
        account: string,
        outcome: SignalOutcome,
        flags: { id: string; bounceType?: string; occurredAt?: string; json?: boolean },
      ) => {
        const { config } = cliContext();
        const r = await (
          await ops()
        ).recordSignal(config, {
          id: flags.id,
          account_id: account,
          outcome,
          occurred_at: flags.occurredAt ?? new Date().toISOString(),
          ...(flags.bounceType === undefined ? {} : { bounce_type: flags.bounceType }),
        });
        process.stdout.write(
          flags.json
            ? `${JSON.stringify((await wire()).signalResultView(r))}\n`
            : `${r.result}${r.result === 'tripped' ? ` (trip ${r.tripId}, ${r.reason})` : r.result === 'warned' || r.result === 'would_trip' ? ` (${r.reason}, mode ${r.mode})` : ''}\n`,
        );
      },
    );
}
