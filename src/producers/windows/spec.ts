/**
 * A maintenance window as asked for (CLI flags, an HTTP body), checked into a {@link WindowSpec}
 * or refused with a UsageError naming each field and its rule. Pure: no Redis, no API.
 *
 * - one-off: `start` and `end`, ISO-8601 times with a zone (`Z` or an offset).
 * - recurring: `cron` (5 fields, or 6 with seconds), `duration` (`2h`, `90m`, `1h30m`, `45s`,
 *   `1d`) and `tz` (an IANA zone; default UTC). An occurrence must end before the next begins.
 * - accounts: a list of ids, or a listing `filter` (`status=active,type=smtp`) read at each start.
 */
import { CronExpressionParser } from 'cron-parser';
import { UsageError } from '../../errors.js';
import { ACCOUNT_ID_RULE, ACCOUNT_ID_RULE_TEXT } from '../../model.js';
import type { ListFilter } from '../../sendmux/client.js';
import { parseFilter } from '../bulk/accounts.js';

export const WINDOW_ID_RULE = /^[A-Za-z0-9_-]{1,64}$/;
export const WINDOW_ID_RULE_TEXT = 'must be 1..64 letters, digits, "_" or "-"';
/** The most accounts one window may name (a filter has no such cap). */
export const MAX_WINDOW_ACCOUNTS = 10_000;
/** The longest occurrence. */
export const MAX_DURATION_MS = 7 * 86_400_000;

/** What a user asks for; every field optional until checked. */
export interface WindowInput {
  id?: string;
  accounts?: readonly string[];
  /** `status=...,type=...` (the listing's filter), read at each start. */
  filter?: string;
  start?: string;
  end?: string;
  cron?: string;
  duration?: string;
  tz?: string;
  reason?: string;
}

export type WindowTargets =
  { kind: 'accounts'; ids: string[] } | { kind: 'filter'; filter: ListFilter; text: string };

export type WindowSchedule =
  | { kind: 'once'; startMs: number; endMs: number }
  | { kind: 'recurring'; cron: string; durationMs: number; tz: string };

export interface WindowSpec {
  id: string;
  targets: WindowTargets;
  schedule: WindowSchedule;
  reason: string;
}

/** Accepts `YYYY-MM-DDTHH:MM[:SS[.sss]]` with `Z` or `±HH:MM`; anything else is ambiguous. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** A time with its zone, in ms; a UsageError naming `field` otherwise. */
export function parseTime(field: string, text: string): number {
  const ms = ISO_WITH_ZONE.test(text.trim()) && realDate(text) ? Date.parse(text.trim()) : NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `${field}: must be an ISO-8601 time with a zone, e.g. 2026-12-06T02:00:00+01:00 or 2026-12-06T01:00:00Z (got "${text}")`,
    );
  }
  return ms;
}

/** The calendar date and clock time exist (Date.parse rolls 2026-02-30 over into March). */
function realDate(text: string): boolean {
  const [y, mo, d, h, mi] = text
    .trim()
    .split(/[-T:]/)
    .map((v) => parseInt(v, 10));
  if (y === undefined || mo === undefined || d === undefined) return false;
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && (h ?? 0) < 24 && (mi ?? 0) < 60;
}

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** `2h`, `90m`, `1h30m`, `45s`, `1d` -> ms. */
export function parseDuration(field: string, text: string): number {
  const m = DURATION.exec(text.trim());
  const [d, h, min, s] = (m?.slice(1) ?? []).map((v: string | undefined) => Number(v ?? 0));
  const ms = m ? (((d ?? 0) * 24 + (h ?? 0)) * 60 + (min ?? 0)) * 60_000 + (s ?? 0) * 1000 : NaN;
  if (!(ms > 0) || ms > MAX_DURATION_MS) {
    throw new UsageError(
      `${field}: must be a duration like 2h, 90m, 1h30m, 45s or 1d, more than 0 and at most 7d (got "${text}")`,
    );
  }
  return ms;
}

/** An IANA time zone this runtime knows; a UsageError naming `field` otherwise. */
export function checkTimeZone(field: string, tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    // Kept as written: ICU would canonicalise some names (Asia/Kolkata -> Asia/Calcutta).
    return tz;
  } catch {
    throw new UsageError(`${field}: "${tz}" is not a known IANA time zone (e.g. Europe/Berlin)`);
  }
}

/** The next `count` start times of a cron expression after `from`, in its zone. */
export function nextOccurrences(cron: string, tz: string, from: Date, count: number): number[] {
  const it = CronExpressionParser.parse(cron, { tz, currentDate: from });
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(it.next().getTime());
  return out;
}

function checkCron(cron: string, tz: string, durationMs: number | undefined, now: Date): void {
  const fields = cron.trim().split(/\s+/).length;
  let times: number[];
  try {
    if (fields < 5 || fields > 6) throw new Error(`${fields} fields`);
    times = nextOccurrences(cron, tz, now, 3);
  } catch (err) {
    throw new UsageError(
      `--cron: "${cron}" is not a valid cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first): ${(err as Error).message}`,
    );
  }
  if (durationMs === undefined) return;
  const [a = 0, b = 0, c = 0] = times;
  const gap = Math.min(b - a, c - b);
  if (durationMs >= gap) {
    throw new UsageError(
      `--duration: must be shorter than the time between two occurrences of "${cron}" (${Math.round(gap / 1000)} s)`,
    );
  }
}

/** Check a window as asked for; throws a UsageError naming the field and the rule. */
export function parseWindow(input: WindowInput, now = new Date(), newId: () => string): WindowSpec {
  const id = input.id ?? newId();
  if (!WINDOW_ID_RULE.test(id)) throw new UsageError(`--id: "${id}" ${WINDOW_ID_RULE_TEXT}`);
  const reason = input.reason ?? '';
  if (reason.length > 500) throw new UsageError('--reason: must be at most 500 characters');
  return { id, targets: parseTargets(input), schedule: parseSchedule(input, now), reason };
}

function parseTargets(input: WindowInput): WindowTargets {
  const hasIds = input.accounts !== undefined;
  const hasFilter = input.filter !== undefined;
  if (hasIds === hasFilter) {
    throw new UsageError('--accounts / --filter: give exactly one of them');
  }
  if (hasFilter) {
    const text = input.filter ?? '';
    return { kind: 'filter', filter: parseFilter(text), text };
  }
  const ids = [...new Set((input.accounts ?? []).map((id) => id.trim()).filter((id) => id))];
  if (ids.length === 0) throw new UsageError('--accounts: give at least one account id');
  if (ids.length > MAX_WINDOW_ACCOUNTS) {
    throw new UsageError(
      `--accounts: at most ${MAX_WINDOW_ACCOUNTS} accounts per window (got ${ids.length}); use --filter`,
    );
  }
  const bad = ids.find((id) => !ACCOUNT_ID_RULE.test(id));
  if (bad !== undefined) throw new UsageError(`--accounts: "${bad}" ${ACCOUNT_ID_RULE_TEXT}`);
  return { kind: 'accounts', ids };
}

function parseSchedule(input: WindowInput, now: Date): WindowSchedule {
  if (input.cron !== undefined) {
    if (input.start !== undefined || input.end !== undefined) {
      throw new UsageError('--start / --end: not with --cron (a recurring window has --duration)');
    }
    if (input.duration === undefined) throw new UsageError('--duration: required with --cron');
    const tz = checkTimeZone('--tz', input.tz ?? 'UTC');
    const durationMs = parseDuration('--duration', input.duration);
    checkCron(input.cron, tz, durationMs, now);
    return { kind: 'recurring', cron: input.cron.trim(), durationMs, tz };
  }
  if (input.duration !== undefined) throw new UsageError('--duration: only with --cron');
  if (input.tz !== undefined) {
    checkTimeZone('--tz', input.tz);
    throw new UsageError('--tz: only with --cron (--start and --end carry their own offset)');
  }
  if (input.start === undefined) throw new UsageError('--start: required (or --cron)');
  if (input.end === undefined) throw new UsageError('--end: required with --start');
  const startMs = parseTime('--start', input.start);
  const endMs = parseTime('--end', input.end);
  if (endMs <= startMs) {
    throw new UsageError(`--end: must be after --start (${input.start} .. ${input.end})`);
  }
  if (endMs <= now.getTime()) {
    throw new UsageError(`--end: must be in the future (${input.end} has passed)`);
  }
  return { kind: 'once', startMs, endMs };
}

/** An occurrence's id: its start time in UTC, `YYYYMMDDTHHMMSSZ` (with `.mmm` when not whole). */
export function occurrenceId(startMs: number): string {
  const iso = new Date(startMs).toISOString(); // 2026-12-06T01:00:00.000Z
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 19).replace(/[-:]/g, '')}${ms === '000' ? '' : `.${ms}`}Z`;
}
