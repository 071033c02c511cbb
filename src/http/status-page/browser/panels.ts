/**
 * The page's panels, each rendered from one overview into its elements of the HTML shell
 * (html.ts): the summary cards, breakers, accounts, windows, failures and webhook events.
 */
import { $, badge, dash, el, row, sub, table, td, when, type Child } from './dom.js';
import { localTime, pct, plural, relative } from './format.js';
import type {
  PageAccount,
  PageAmbiguousEvent,
  PageOverview,
  PageTargets,
  PageWebhookEvent,
} from './overview.js';

function summary(o: PageOverview): void {
  const open = o.breakers.filter((b) => b.state === 'open').length;
  const halfOpen = o.breakers.filter((b) => b.state === 'half_open').length;
  const off = o.accounts.filter((a) => a.is_active === false).length;
  function card(n: number, label: string, kind?: string) {
    return el('div', { className: 'card' + (kind && n > 0 ? ' ' + kind : '') }, [
      el('div', { className: 'n', text: n }),
      el('div', { className: 'label', text: label }),
    ]);
  }
  $('summary').replaceChildren(
    card(o.totals.accounts, 'accounts recorded'),
    card(off, 'off (of those shown)'),
    card(o.totals.held, 'held off', 'warn'),
    card(open, 'breakers open', 'bad'),
    card(halfOpen, 'breakers half-open', 'warn'),
    card(o.windows.running.length, 'windows running', 'warn'),
    card(o.failures.length, 'recent failures', 'bad'),
    card(o.webhooks.results.ambiguous, 'ambiguous webhook events', 'warn'),
  );
}

function stateBadge(state: string): HTMLSpanElement {
  return badge(state, state === 'open' ? 'bad' : state === 'half_open' ? 'warn' : 'ok');
}

function rateCell(
  rate: number | null,
  count: number,
  of: number,
  ruleRate: number,
  ruleMin: number,
  what: string,
): HTMLTableCellElement {
  const cell = td('', [pct(rate)]);
  cell.appendChild(sub(`${count} of ${of} ${what} · trips at ${pct(ruleRate)} (min ${ruleMin})`));
  return cell;
}

function breakers(o: PageOverview): void {
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
    if (tripped && o.can_reset_breakers) {
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
    if (b.state === 'open' && b.open_until) {
      state.appendChild(sub('half-open ' + relative(Date.parse(b.open_until) - Date.now())));
    }
    const r = b.rules;
    return row(
      [
        el('span', { className: 'mono', text: b.account_id }),
        state,
        rateCell(w.bounce_rate, w.hard_bounced, volume, r.bounce_rate, r.bounce_min_volume, 'hard'),
        rateCell(
          w.complaint_rate,
          w.complained,
          w.delivered,
          r.complaint_rate,
          r.complaint_min_volume,
          'complaints',
        ),
        td('num', [String(w.delivered), sub(`${Math.round(w.window_s / 60)} min window`)]),
        td('num', [String(b.trips)]),
        trip,
        action,
      ],
      { 'data-account': b.account_id, 'data-state': b.state },
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

function accounts(o: PageOverview): void {
  const rows = o.accounts.map((a) =>
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
  $('accounts').replaceChildren(
    table(
      ['Account', 'Status', 'Holds', 'Last action', 'Recorded', 'Last error'],
      rows,
      'No account has been switched yet.',
    ),
  );
  $('accounts-note').textContent = o.truncated.accounts
    ? `showing ${o.accounts.length} of ${o.totals.accounts} (held first, then most recently changed)`
    : plural(o.accounts.length, 'account');
}

function targets(t: PageTargets): HTMLTableCellElement {
  const cell = td('', [t.kind === 'filter' ? 'filter ' + t.text : t.text]);
  if (t.account_ids.length > 0) {
    const more = t.count !== null && t.count > t.account_ids.length;
    cell.appendChild(sub(t.account_ids.join(', ') + (more ? ', …' : '')));
  }
  return cell;
}

function windows(o: PageOverview): void {
  const w = o.windows;
  if (!w.available) {
    $('windows-note').textContent = 'not served by this server';
  } else {
    $('windows-note').textContent = o.truncated.windows
      ? `from the ${o.limits.windows} newest of ${o.totals.windows} windows`
      : plural(o.totals.windows, 'window');
  }
  $('windows-running').replaceChildren(
    table(
      ['Window', 'State', 'Started', 'Ends', 'Accounts', 'Reason'],
      w.running.map((r) =>
        row(
          [
            el('span', { className: 'mono', text: r.window_id }),
            badge(r.state, 'warn'),
            when(r.started_at || r.starts_at),
            when(r.ends_at),
            targets(r.targets),
            r.reason || null,
          ],
          { 'data-window': r.window_id },
        ),
      ),
      'No window is running.',
    ),
  );
  $('windows-upcoming').replaceChildren(
    table(
      ['Window', 'Next start', 'Ends', 'Schedule', 'Accounts', 'Reason'],
      w.upcoming.map((u) =>
        row(
          [
            el('span', { className: 'mono', text: u.window_id }),
            when(u.next_starts[0]),
            when(u.next_ends_at),
            u.schedule || 'once',
            targets(u.targets),
            u.reason || null,
          ],
          { 'data-window': u.window_id },
        ),
      ),
      'No window is scheduled.',
    ),
  );
}

function failures(o: PageOverview): void {
  const rows = o.failures.map((f) => {
    const code = td('', [badge(f.error_code || 'failed', 'bad')]);
    if (f.http_status) code.appendChild(sub(`HTTP ${f.http_status}`));
    const msg = td('msg', [f.error_message || '']);
    if (f.request_id) msg.appendChild(sub('request ' + f.request_id));
    return row(
      [
        when(f.at),
        el('span', { className: 'mono', text: f.account_id }),
        f.action,
        code,
        msg,
        td('', [f.source || '', sub(f.idempotency_key || '')]),
      ],
      { 'data-account': f.account_id },
    );
  });
  $('failures').replaceChildren(
    table(
      ['When', 'Account', 'Action', 'Error', 'Message', 'Source'],
      rows,
      'No failed action among the latest events.',
    ),
  );
  $('failures-note').textContent =
    `latest ${o.limits.failures} among the ${o.failures_scanned} newest events`;
  // Window steps that left targets in the wrong state (window.failed).
  $('window-failures').replaceChildren(
    table(
      ['When', 'Window', 'Step', 'Accounts', 'Why'],
      o.window_failures.map((f) =>
        row(
          [
            when(f.at),
            td('mono', [f.window_id, sub(f.occurrence)]),
            td('', [badge(f.step, 'bad')]),
            td('mono', [f.account_ids.join(', ')]),
            td('msg', [f.why]),
          ],
          { 'data-window': f.window_id },
        ),
      ),
      'No window step failed among the latest events.',
    ),
  );
}

/** The cells every webhook event row starts with. */
function eventCells(e: PageWebhookEvent): Child[] {
  const message = td('msg', [e.sender || '–']);
  if (e.message_id) message.appendChild(sub(e.message_id));
  return [when(e.at), el('span', { className: 'mono', text: e.event_id }), e.type, message];
}

/** Webhook events counted for no account: the counters, the latest ambiguous and unresolved. */
function webhooks(o: PageOverview): void {
  const w = o.webhooks;
  const counts = Object.keys(w.results)
    .filter((k) => (w.results[k] ?? 0) > 0)
    .map((k) => `${k} ${w.results[k] ?? 0}`);
  $('webhooks-note').textContent =
    counts.length > 0 ? counts.join(' · ') : 'no webhook event processed yet';
  $('webhooks-ambiguous').replaceChildren(
    table(
      ['When', 'Event', 'Type', 'Sender', 'Candidates'],
      w.ambiguous.map((e: PageAmbiguousEvent) => {
        const candidates = td('mono', [e.candidates.join(', ')]);
        candidates.appendChild(
          sub(e.via === 'delivery_log' ? 'named by the delivery log' : 'share this from_email'),
        );
        return row(eventCells(e).concat([candidates]), { 'data-event': e.event_id });
      }),
      `No ambiguous event among the latest ${o.limits.webhook_events}.`,
    ),
  );
  $('webhooks-unresolved').replaceChildren(
    table(
      ['When', 'Event', 'Type', 'Sender'],
      w.unresolved.map((e) => row(eventCells(e), { 'data-event': e.event_id })),
      `No unresolved event among the latest ${o.limits.webhook_events}.`,
    ),
  );
}

/** Every panel, and the time of the overview in the header. */
export function render(o: PageOverview): void {
  summary(o);
  breakers(o);
  accounts(o);
  windows(o);
  failures(o);
  webhooks(o);
  $('updated').textContent = 'updated ' + localTime(new Date(o.generated_at));
}
