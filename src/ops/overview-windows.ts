/**
 * The windows part of the overview (overview.ts): the running occurrences and upcoming starts
 * of the newest windows, each with a short summary of whom it switches off.
 */
import type { WindowSchedule, WindowTargets } from '../producers/windows/spec.js';
import type { WindowView } from '../producers/windows/windows.js';

/** Who a window switches off, shortly. */
export interface TargetsSummary {
  kind: 'accounts' | 'filter';
  /** The filter's text, or the number of accounts. */
  text: string;
  /** Up to 10 of the accounts (none for a filter). */
  accounts: string[];
  count: number | null;
}

export interface RunningWindow {
  window_id: string;
  occurrence: string;
  state: string;
  starts_at: string;
  ends_at: string;
  started_at: string | null;
  reason: string;
  targets: TargetsSummary;
}

export interface UpcomingWindow {
  window_id: string;
  kind: 'once' | 'recurring';
  /** The next starts (up to 3). */
  next_starts: string[];
  /** When the next occurrence ends. */
  next_ends_at: string | null;
  /** `cron` in `tz` for 2h, or null for a one-off window. */
  schedule: string | null;
  reason: string;
  targets: TargetsSummary;
}

function targetsSummary(targets: WindowTargets): TargetsSummary {
  if (targets.kind === 'filter') {
    return { kind: 'filter', text: targets.text, accounts: [], count: null };
  }
  const n = targets.ids.length;
  return {
    kind: 'accounts',
    text: `${n} account${n === 1 ? '' : 's'}`,
    accounts: targets.ids.slice(0, 10),
    count: n,
  };
}

function durationText(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 60) return `${min}m`;
  return min % 60 === 0 ? `${min / 60}h` : `${Math.floor(min / 60)}h${min % 60}m`;
}

/** Running occurrences and upcoming starts of the given windows. */
export function splitWindows(
  views: readonly WindowView[],
  now: Date,
): { running: RunningWindow[]; upcoming: UpcomingWindow[] } {
  const running: RunningWindow[] = [];
  const upcoming: UpcomingWindow[] = [];
  for (const w of views) {
    const schedule: WindowSchedule = w.schedule;
    const targets = targetsSummary(w.targets);
    for (const o of w.occurrences) {
      if (o.state !== 'starting' && o.state !== 'started') continue;
      running.push({
        window_id: w.id,
        occurrence: o.occurrence,
        state: o.state,
        starts_at: o.starts_at,
        ends_at: o.ends_at,
        started_at: o.started_at,
        reason: w.reason,
        targets,
      });
    }
    const next = w.next_starts.filter((s) => Date.parse(s) > now.getTime());
    const first = next[0];
    if (w.state !== 'scheduled' || first === undefined) continue;
    upcoming.push({
      window_id: w.id,
      kind: schedule.kind,
      next_starts: next,
      next_ends_at:
        schedule.kind === 'once'
          ? new Date(schedule.endMs).toISOString()
          : new Date(Date.parse(first) + schedule.durationMs).toISOString(),
      schedule:
        schedule.kind === 'recurring'
          ? `${schedule.cron} (${schedule.tz}) for ${durationText(schedule.durationMs)}`
          : null,
      reason: w.reason,
      targets,
    });
  }
  running.sort((a, b) => a.ends_at.localeCompare(b.ends_at));
  upcoming.sort((a, b) => (a.next_starts[0] ?? '').localeCompare(b.next_starts[0] ?? ''));
  return { running, upcoming };
}
