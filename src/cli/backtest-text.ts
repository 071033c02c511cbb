/** `breaker backtest` for terminals: a table per rule set, a comparison, a summary line per set. */
import type { BacktestView } from '../wire/backtest.js';
import { table } from './format.js';

type SetView = BacktestView['rule_sets'][number];
type Numbers = SetView['accounts'][number]['trips'][number]['numbers'];

const n = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
const pct = (r: number) => `${(r * 100).toFixed(2).replace(/\.?0+$/, '')}%`;
const time = (iso: string) => iso.replace('.000Z', 'Z');

function numbersText(reason: string, n: Numbers): string {
  return reason === 'bounce_rate'
    ? `hard ${n.hard_bounced}/${n.delivered + n.bounced} = ${pct(n.bounce_rate ?? 0)}`
    : `complained ${n.complained}/${n.delivered} = ${pct(n.complaint_rate ?? 0)}`;
}

function rulesText(s: SetView): string {
  const g = s.global;
  return `bounce ${pct(g.bounce_rate)} (warn ${pct(g.bounce_warn_rate)}) with >= ${g.bounce_min_volume}, complaints ${pct(g.complaint_rate)} (warn ${pct(g.complaint_warn_rate)}) with >= ${g.complaint_min_volume} delivered, over ${g.window_s}s`;
}

interface Row {
  account: string;
  warned: string | null;
  tripped_at: string | null;
  reason: string | null;
  numbers: string | null;
}

function setTable(s: SetView): string {
  const rows = s.accounts.flatMap((a): Row[] => {
    const warned = a.first_warned_at ? `${time(a.first_warned_at)} (${a.warnings.length}x)` : null;
    if (a.trips.length === 0) {
      return [{ account: a.account_id, warned, tripped_at: null, reason: null, numbers: null }];
    }
    return a.trips.map((t, i) => ({
      account: i === 0 ? a.account_id : '',
      warned: i === 0 ? warned : '',
      tripped_at: time(t.at),
      reason: t.reason,
      numbers: numbersText(t.reason, t.numbers),
    }));
  });
  if (rows.length === 0) return '  no account warned or tripped';
  return table(rows, ['account', 'warned', 'tripped_at', 'reason', 'numbers']);
}

function comparison(sets: readonly SetView[]): string | undefined {
  if (sets.length < 2) return undefined;
  const ids = [...new Set(sets.flatMap((s) => s.accounts.map((a) => a.account_id)))].sort();
  if (ids.length === 0) return undefined;
  const rows = ids.map((id) => {
    const row: Record<string, string> = { account: id };
    for (const s of sets) {
      const a = s.accounts.find((x) => x.account_id === id);
      row[s.name] = a ? `${n(a.trips.length, 'trip')}, ${n(a.warnings.length, 'warning')}` : '-';
    }
    return row;
  });
  return table(rows, ['account', ...sets.map((s) => s.name)]);
}

export function backtestText(v: BacktestView): string {
  const src = v.source;
  const out: string[] = [
    `history: ${src.kind} ${src.name}: ${src.read} read, ${src.signals} signals, ${src.skipped} skipped${src.from && src.to ? ` (${time(src.from)} .. ${time(src.to)})` : ''}`,
  ];
  for (const s of src.skipped_reasons) {
    out.push(
      `  skipped ${s.count}: ${s.reason} (at ${s.where.join(', ')}${s.count > s.where.length ? ', ...' : ''})`,
    );
  }
  for (const s of v.rule_sets) {
    out.push('', `rules ${s.name} (${s.source}): ${rulesText(s)}`, setTable(s));
  }
  const compared = comparison(v.rule_sets);
  if (compared) out.push('', 'per account:', compared);
  if (v.actual) {
    out.push('', `actual (the live breaker's events, ${v.actual.events_read} read):`);
    const rows = v.actual.accounts.map((a) => ({
      account: a.account_id,
      tripped:
        a.events
          .filter((e) => e.type === 'breaker.tripped')
          .map((e) => time(e.at))
          .join(', ') || null,
      warned: a.events.filter((e) => e.type === 'breaker.warned').length,
      would_trip: a.events.filter((e) => e.type === 'breaker.would_trip').length,
    }));
    out.push(
      rows.length === 0
        ? '  none for these accounts'
        : table(rows, ['account', 'tripped', 'warned', 'would_trip']),
    );
  }
  out.push('', 'assumptions:', ...v.assumptions.map((a) => `- ${a}`), '');
  for (const s of v.rule_sets) {
    out.push(
      `rules ${s.name}: ${n(s.trips, 'trip')} on ${n(s.accounts_tripped, 'account')}, ${n(s.warnings, 'warning')} on ${n(s.accounts_warned, 'account')} (${s.counted} counted, ${n(s.duplicates, 'duplicate')}, ${s.stale} stale)`,
    );
  }
  return `${out.join('\n')}\n`;
}
