/**
 * The status page's account panels: breakers with their rates and reset buttons (panels.ts
 * renders them), held accounts with what they really are (off, or still on after a failed
 * deactivation: the failure and the next step), and the accounts table the search panel
 * (accounts-search.ts) fills a page at a time.
 */
import { $, badge, dash, el, row, sub, table, td, when } from './dom.js';
import { duration, plural, pct, relative } from './format.js';
import type { PageAccount, PageBreaker, PageOverview } from './overview.js';

function stateBadge(state: string): HTMLSpanElement {
  return badge(state, state === 'open' ? 'bad' : state === 'half_open' ? 'warn' : 'ok');
}

function rateCell(
  rate: number | null,
  count: number,
  of: number,
  levels: { warn: number; trip: number; min: number },
  what: string,
): HTMLTableCellElement {
  const cell = td('', [pct(rate)]);
  const warns = levels.warn < levels.trip ? `warns at ${pct(levels.warn)} · ` : '';
  cell.appendChild(
    sub(`${count} of ${of} ${what} · ${warns}trips at ${pct(levels.trip)} (min ${levels.min})`),
  );
  return cell;
}

/** The warning said within the window: what crossed, and when. */
function warningBadge(b: PageBreaker): HTMLElement | null {
  if (b.warning === null) return null;
  const said = b.warning === 'would_trip' ? b.last_would_trip : b.last_warning;
  const box = el('div', null, [
    badge(b.warning === 'would_trip' ? 'would trip' : 'warning', 'warn'),
    ' ' + (said ? said.reason : ''),
  ]);
  if (said) box.appendChild(when(said.at));
  return box;
}

export function breakers(o: PageOverview, readOnly: boolean): void {
  const rows = o.breakers.map((b) => {
    const w = b.window;
    const tripped = b.state === 'open' || b.state === 'half_open';
    const volume = w.delivered + w.bounced;
    let trip: HTMLElement | null = null;
    if (b.last_trip) {
      trip = el('span', null, [b.last_trip.reason + ' ']);
      trip.appendChild(when(b.last_trip.at));
    }
    let action: HTMLElement | null = null;
    if (tripped && readOnly) {
      action = el('span', { className: 'sub', text: 'read-only token' });
    } else if (tripped && o.can_reset_breakers) {
      action = el('button', {
        type: 'button',
        'data-action': 'reset',
        'data-account': b.account_id,
        text: 'Reset',
      });
    } else if (tripped) {
      action = el('span', { className: 'sub', text: 'reset needs the breaker (serve)' });
    }
    const state = td('', [stateBadge(b.state)]);
    const warning = warningBadge(b);
    if (warning) state.appendChild(warning);
    if (b.mode.mode !== 'act') state.appendChild(sub(`mode ${b.mode.mode}`));
    if (b.state === 'open' && b.open_until) {
      state.appendChild(sub('half-open ' + relative(Date.parse(b.open_until) - Date.now())));
    }
    const r = b.rules;
    return row(
      [
        el('span', { className: 'mono', text: b.account_id }),
        state,
        rateCell(
          w.bounce_rate,
          w.hard_bounced,
          volume,
          { warn: r.bounce_warn_rate, trip: r.bounce_rate, min: r.bounce_min_volume },
          'hard',
        ),
        rateCell(
          w.complaint_rate,
          w.complained,
          w.delivered,
          { warn: r.complaint_warn_rate, trip: r.complaint_rate, min: r.complaint_min_volume },
          'complaints',
        ),
        td('num', [String(w.delivered), sub(`${duration(w.window_s * 1000)} window`)]),
        td('num', [String(b.trips)]),
        trip,
        action,
      ],
      {
        'data-account': b.account_id,
        'data-state': b.state,
        'data-warning': b.warning ?? '',
        'data-mode': b.mode.mode,
      },
    );
  });
  $('breakers').replaceChildren(
    table(
      ['Account', 'State', 'Bounce rate', 'Complaint rate', 'Delivered', 'Trips', 'Last trip', ''],
      rows,
      'No breaker has seen signals yet.',
    ),
  );
  $('breakers-note').textContent = o.truncated.breakers
    ? `showing ${o.breakers.length} of ${o.totals.breakers} (holding ones first)`
    : plural(o.breakers.length, 'account');
}

function accountStatus(a: PageAccount): HTMLTableCellElement {
  const cell = td('', []);
  if (a.is_active === true) cell.appendChild(badge(a.status || 'active', 'ok'));
  else if (a.is_active === false) cell.appendChild(badge(a.status || 'inactive', 'off'));
  else cell.appendChild(badge('unknown', 'off'));
  if (a.still_on) cell.appendChild(badge('held, still on', 'bad'));
  if (a.status_reason) cell.appendChild(sub(a.status_reason));
  return cell;
}

function holdsCell(a: PageAccount): HTMLTableCellElement {
  if (a.holds.length === 0) return td('', [dash()]);
  const cell = td(
    '',
    a.holds.map((h) =>
      el('span', {
        className: 'chip',
        title: h.source + (h.reason ? ': ' + h.reason : '') + ' (since ' + h.at + ')',
        text: h.id,
      }),
    ),
  );
  if (a.held_before) {
    cell.appendChild(
      sub(
        a.held_before === 'unknown'
          ? 'base unknown: stays off when released (activate brings it back)'
          : 'base: ' + a.held_before,
      ),
    );
  }
  return cell;
}

function lastAction(a: PageAccount): Node {
  if (!a.last_action) return dash();
  const cell = td('', [a.last_action + ' ']);
  cell.appendChild(badge(a.last_outcome || '?', a.last_outcome === 'succeeded' ? 'ok' : 'bad'));
  cell.appendChild(sub((a.source || '') + (a.reason ? ' · ' + a.reason : '')));
  return cell;
}

function lastError(a: PageAccount): Node {
  if (!a.last_error) return dash();
  const e = a.last_error;
  const cell = td('msg', [e.code + (e.http_status ? ` (${e.http_status})` : '')]);
  cell.appendChild(sub(e.message));
  return cell;
}

/** The accounts table: status, holds, last action, when, last error. */
export function accountsTable(list: readonly PageAccount[], empty: string): HTMLElement {
  const rows = list.map((a) =>
    row(
      [
        el('span', { className: 'mono', text: a.account_id }),
        accountStatus(a),
        holdsCell(a),
        lastAction(a),
        when(a.recorded_at),
        lastError(a),
      ],
      { 'data-account': a.account_id },
    ),
  );
  return table(
    ['Account', 'Status', 'Holds', 'Last action', 'Recorded', 'Last error'],
    rows,
    empty,
  );
}

/** What a held account is: off, or still on (with the failure and what to run). */
function heldStateCell(a: PageAccount): HTMLTableCellElement {
  if (a.is_active === false) return td('', [badge('off', 'off')]);
  if (a.still_on) {
    const cell = td('', [badge('still on', 'bad')]);
    cell.appendChild(sub('held, but not switched off'));
    return cell;
  }
  return td('', [badge('switching off', 'warn')]);
}

function failureCell(a: PageAccount): Node {
  const f = a.last_failure;
  if (!f) return dash();
  const cell = td('msg', [f.error_code + ': ' + f.error_message]);
  cell.appendChild(el('div', null, [when(f.at)]));
  return cell;
}

/** Held accounts (from the overview: held first), with what they really are. */
export function held(o: PageOverview): void {
  const list = o.accounts.filter((a) => a.holds.length > 0);
  const rows = list.map((a) =>
    row(
      [
        el('span', { className: 'mono', text: a.account_id }),
        heldStateCell(a),
        holdsCell(a),
        failureCell(a),
        a.next_step ? td('mono msg', [a.next_step]) : dash(),
      ],
      { 'data-account': a.account_id, 'data-still-on': a.still_on ? 'true' : 'false' },
    ),
  );
  $('held').replaceChildren(
    table(
      ['Account', 'State', 'Holds', 'Deactivation failed', 'Next step'],
      rows,
      'No account is held.',
    ),
  );
  $('held-note').textContent =
    `${o.totals.held_off} off, ${o.totals.held_still_on} still on` +
    (o.totals.held > list.length ? ` (of the first ${list.length} of ${o.totals.held})` : '');
}
