/**
 * The maintenance-window demo's words: the lines it prints (times in the window's zone, one
 * line per window event, the closing table) and the expectations it checks, kept apart from
 * the run itself (window-demo.ts).
 */
import type { WindowEndedEvent, WindowStartedEvent } from '../model.js';
import { nextOccurrences } from '../producers/windows/spec.js';

/** What the demo did to an account before the window. */
export type AccountRole = 'normal' | 'off_before' | 'breaker';

export interface AccountRow {
  id: string;
  role: AccountRole;
  /** At the simulator, after the last occurrence (`active`, `inactive`, ...). */
  status: string;
  /** Calls the simulator executed for the account, per kind. */
  deactivate: number;
  activate: number;
}

export interface WindowDemoFacts {
  /** Occurrences the demo waited for. */
  occurrences: number;
  started: WindowStartedEvent[];
  ended: WindowEndedEvent[];
  rows: AccountRow[];
}

/** `Sun 2026-12-06 02:00:00 CET`: a time as a clock in `tz` shows it. */
export function zoned(ms: number, tz: string, seconds = false): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: seconds ? '2-digit' : undefined,
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(new Date(ms));
  const p = (type: Intl.DateTimeFormatPartTypes) => parts.find((x) => x.type === type)?.value ?? '';
  const clock = `${p('hour')}:${p('minute')}${seconds ? `:${p('second')}` : ''}`;
  return `${p('weekday')} ${p('year')}-${p('month')}-${p('day')} ${clock} ${p('timeZoneName')}`;
}

const REAL_CRON = '0 2 * * 0';

/** The window the demo stands for: its exact command line and its next three starts. */
export function realThing(ids: readonly string[], tz: string, now = new Date()): string {
  const next = nextOccurrences(REAL_CRON, tz, now, 3).map((ms) => zoned(ms, tz));
  return (
    `the real thing: these ${ids.length} accounts off every Sunday 02:00-04:00 in ${tz}\n` +
    `  sendmux-deactivator window create --accounts ${ids.join(',')} \\\n` +
    `    --cron "${REAL_CRON}" --duration 2h --tz ${tz} --reason "SMTP host migration"\n` +
    `  next starts: ${next.join(', ')}\n\n`
  );
}

const list = (ids: readonly string[]) => `[${ids.join(', ')}]`;

/** One line per window event. */
export function eventLine(e: WindowStartedEvent | WindowEndedEvent, tz: string): string {
  const at = zoned(Date.parse(e.at), tz, true).split(' ')[2] ?? e.at;
  if (e.type === 'window.started') {
    return (
      `  ${at}  window.started  ${e.occurrence}  switched off ${e.switched_off.length}, ` +
      `already off ${list(e.already_off)}${e.missing.length ? `, missing ${list(e.missing)}` : ''}` +
      `  (${e.late_ms} ms after its start)`
    );
  }
  const held = e.still_held.map((h) => `${h.account_id} by ${h.held_by.join('+')}`);
  return (
    `  ${at}  window.ended    ${e.occurrence}  reactivated ${e.reactivated.length}, ` +
    `stayed off ${list(e.stayed_off)}, still held ${list(held)}`
  );
}

const WHY: Record<AccountRole, string> = {
  normal: 'back on after each window',
  off_before: 'off before the window: stayed off',
  breaker: 'held by the breaker: still held',
};

/** The closing table: accounts grouped by what happened to them, and the calls per kind. */
export function renderTable(f: WindowDemoFacts): string {
  const groups = new Map<string, AccountRow[]>();
  for (const r of f.rows) {
    const key = `${r.role}|${r.status}|${r.deactivate}|${r.activate}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const lines = [
    '',
    `the ${f.rows.length} accounts now, at the simulator`,
    `  ${'accounts'.padEnd(34)} ${'status'.padEnd(9)} deactivate  activate  why`,
  ];
  for (const rows of groups.values()) {
    const [r] = rows as [AccountRow];
    const who = rows.length === 1 ? r.id : `${rows.length} accounts, e.g. ${r.id}`;
    const each = rows.length === 1 ? '' : ' each';
    lines.push(
      `  ${who.padEnd(34)} ${r.status.padEnd(9)} ${`${r.deactivate}${each}`.padEnd(11)} ` +
        `${`${r.activate}${each}`.padEnd(9)} ${WHY[r.role]}`,
    );
  }
  const sum = (k: 'activate' | 'deactivate') => f.rows.reduce((n, r) => n + r[k], 0);
  const normal = f.rows.filter((r) => r.role === 'normal').length;
  const [off, on] = [f.occurrences * normal + 2, f.occurrences * normal];
  lines.push(
    '',
    `API calls the simulator executed for them: deactivate ${sum('deactivate')}, activate ${sum('activate')}`,
    `  expected: ${f.occurrences} occurrences x ${normal} accounts each way, + 1 switched off` +
      ` before the window,\n            + 1 by the breaker trip = deactivate ${off}, activate ${on}`,
    '',
  );
  return lines.join('\n');
}

const same = (a: readonly string[], b: readonly string[]) =>
  [...a].sort().join(',') === [...b].sort().join(',');

/** Every way the run differs from what the demo promises; empty when it all matched. */
export function checkWindowDemo(f: WindowDemoFacts): string[] {
  const problems: string[] = [];
  const ids = (role: AccountRole) => f.rows.filter((r) => r.role === role).map((r) => r.id);
  const [normal, offBefore, held] = [ids('normal'), ids('off_before'), ids('breaker')];
  if (f.ended.length < f.occurrences) {
    problems.push(`saw ${f.ended.length} window.ended of ${f.occurrences} occurrences`);
  }
  for (const e of f.started) {
    if (!same(e.switched_off, normal)) {
      problems.push(
        `${e.occurrence}: switched off ${e.switched_off.length}, not the ${normal.length} on`,
      );
    }
    if (!same(e.already_off, [...offBefore, ...held])) {
      problems.push(`${e.occurrence}: already off ${list(e.already_off)}`);
    }
  }
  for (const e of f.ended) {
    if (!same(e.reactivated, normal)) {
      problems.push(`${e.occurrence}: reactivated ${e.reactivated.length}, not ${normal.length}`);
    }
    if (!same(e.stayed_off, offBefore))
      problems.push(`${e.occurrence}: stayed off ${list(e.stayed_off)}`);
    const stillHeld = e.still_held.map((h) => h.account_id);
    if (!same(stillHeld, held) || e.still_held.some((h) => !h.held_by.includes('breaker'))) {
      problems.push(
        `${e.occurrence}: still held ${list(stillHeld)}, not ${list(held)} by the breaker`,
      );
    }
  }
  for (const r of f.rows) {
    const want = r.role === 'normal' ? 'active' : 'inactive';
    if (r.status !== want) problems.push(`${r.id} is ${r.status}, not ${want} (${WHY[r.role]})`);
    if (r.role !== 'normal' && r.activate !== 0) {
      problems.push(`${r.id} was activated ${r.activate} time(s) (${WHY[r.role]})`);
    }
    if (r.role === 'normal' && (r.activate !== f.occurrences || r.deactivate !== f.occurrences)) {
      problems.push(
        `${r.id}: deactivate ${r.deactivate}, activate ${r.activate}, not ${f.occurrences} each`,
      );
    }
  }
  return problems;
}
