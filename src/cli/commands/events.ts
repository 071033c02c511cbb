import type { Command } from 'commander';
import {
  EVENT_TYPES,
  type BreakerHalfOpenEvent,
  type BreakerNumbers,
  type BreakerResetEvent,
  type EventType,
  type StreamEvent,
} from '../../model.js';
import { eventView } from '../../wire/events.js';
import { cliContext, stopSignal } from '../context.js';
import { formatDuration } from '../format.js';
import { enumOption, intOption } from '../options.js';

function line(e: StreamEvent): string {
  switch (e.type) {
    case 'breaker.tripped':
      return `${e.at}  ${e.type.padEnd(17)} ${e.account_id}  ${e.reason}  ${rates(e.numbers)}  trip=${e.trip_id} key=${e.idempotency_key}${by(e)}`;
    case 'breaker.warned':
    case 'breaker.would_trip':
      return `${e.at}  ${e.type.padEnd(17)} ${e.account_id}  ${e.reason}  ${rates(e.numbers)}  mode=${e.mode}`;
    case 'breaker.mode_changed':
      return `${e.at}  ${e.type.padEnd(17)} ${e.account_id ?? 'default'}  ${e.previous ?? '(settings)'} -> ${e.mode ?? '(settings)'}${by(e)}`;
    case 'breaker.half_open':
      return `${e.at}  ${e.type.padEnd(17)} ${e.account_id}  trip=${e.trip_id}  after ${formatDuration(e.cooldown_s * 1000)}  ${staysOff(e)}`;
    case 'breaker.closed':
      return `${e.at}  ${e.type.padEnd(17)} ${e.account_id}  trip=${e.trip_id}  watched without a new trip`;
    case 'breaker.reset':
      return `${e.at}  ${e.type.padEnd(17)} ${e.account_id}  trip=${e.trip_id}  ${staysOff(e)}${by(e)}`;
    case 'window.started':
      return `${e.at}  ${e.type.padEnd(17)} ${e.window_id}  ${e.occurrence}  switched off ${e.switched_off.length}, already off ${e.already_off.length}, missing ${e.missing.length}${e.late_ms >= 1000 ? `  (late by ${formatDuration(e.late_ms)})` : ''}  until ${e.ends_at}`;
    case 'window.ended':
      return `${e.at}  ${e.type.padEnd(17)} ${e.window_id}  ${e.occurrence}  reactivated ${e.reactivated.length}, still held ${e.still_held.length}, stayed off ${e.stayed_off.length}${Array.isArray(e.base_unknown) && e.base_unknown.length > 0 ? `, off with an unknown base ${e.base_unknown.length} (activate brings them back)` : ''}${e.cancelled ? '  (cancelled)' : ''}`;
    case 'window.failed':
      return `${e.at}  ${e.type.padEnd(17)} ${e.window_id}  ${e.occurrence}  ${e.step}: ${e.account_ids.length} account(s): ${e.why}`;
    case 'window.skipped':
      return `${e.at}  ${e.type.padEnd(17)} ${e.window_id}  ${e.occurrence}  ${e.reason}: it ran ${e.starts_at} .. ${e.ends_at} while nothing was running`;
    case 'window.deleted':
      return `${e.at}  ${e.type.padEnd(17)} ${e.window_id}  deleted (${e.was}) by ${e.actor ?? '-'}`;
    default: {
      const outcome =
        e.type === 'action.succeeded'
          ? `-> ${e.account_status ?? '?'}`
          : e.type === 'action.failed'
            ? `FAILED ${e.http_status ?? '-'} ${e.error_code}`
            : e.type === 'action.superseded'
              ? `superseded by ${e.superseded_by}`
              : 'cancelled';
      return `${e.at}  ${e.type.padEnd(17)} ${e.action.padEnd(10)} ${e.account_id}  ${outcome}  key=${e.idempotency_key} attempts=${e.attempts} request=${e.request_id ?? '-'}${by(e)}`;
    }
  }
}

/** Who did it (`  by=alice`), or nothing for events of older versions (no actor). */
function by(e: { actor?: string | null }): string {
  return typeof e.actor === 'string' ? `  by=${e.actor}` : '';
}

/** What a breaker release did: the activation, or why the account stays off. */
function staysOff(e: BreakerResetEvent | BreakerHalfOpenEvent): string {
  if (e.idempotency_key) return `reactivate key=${e.idempotency_key}`;
  if (e.still_held_by.length > 0) return `stays off (held by ${e.still_held_by.join(', ')})`;
  if (e.base === 'unknown') {
    return `stays off (what it is without holds is unknown: \`sendmux-deactivator activate ${e.account_id}\` switches it on)`;
  }
  return 'stays off (it was off without holds)';
}

/** The rates a breaker event read, with their counts. */
function rates(n: BreakerNumbers): string {
  return `bounce=${rate(n.bounce_rate)} (${n.hard_bounced}/${n.delivered + n.bounced}) complaint=${rate(n.complaint_rate)} (${n.complained}/${n.delivered})`;
}

function rate(r: number | null): string {
  return r === null ? '-' : `${(r * 100).toFixed(2)}%`;
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description(
      'recent events (actions, breaker, windows), oldest first; --follow keeps printing new ones',
    )
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
            process.stdout.write(
              `${flags.json ? JSON.stringify(eventView(event)) : line(event)}\n`,
            );
          },
        );
      },
    );
}
