/**
 * The status page's activity panels (panels.ts renders them): running and upcoming windows,
 * recent failures (actions and window steps), and webhook events counted for no account.
 */
import { $, badge, el, row, sub, table, td, when, type Child } from './dom.js';
import { plural } from './format.js';
import type {
  PageAmbiguousEvent,
  PageOverview,
  PageTargets,
  PageWebhookEvent,
} from './overview.js';

function targets(t: PageTargets): HTMLTableCellElement {
  const cell = td('', [t.kind === 'filter' ? 'filter ' + t.text : t.text]);
  if (t.account_ids.length > 0) {
    const more = t.count !== null && t.count > t.account_ids.length;
    cell.appendChild(sub(t.account_ids.join(', ') + (more ? ', …' : '')));
  }
  return cell;
}

export function windows(o: PageOverview): void {
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

export function failures(o: PageOverview): void {
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
export function webhooks(o: PageOverview): void {
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
