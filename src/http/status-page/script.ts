/**
 * The status page's script (served as /status.js; plain JS, no framework, no build step).
 * It fetches GET v1/overview (same origin: the browser sends its Basic credentials itself),
 * renders every value with textContent (never innerHTML), refreshes every few seconds, and
 * resets a tripped breaker with POST v1/breaker/:account/reset.
 *
 * Kept free of backticks and `${`, so it can live in this template literal as it is.
 */
export const STATUS_REFRESH_MS = 5_000;

export const STATUS_JS = String.raw`(function () {
  'use strict';
  var REFRESH_MS = ${STATUS_REFRESH_MS};
  var timer = null;
  var loading = false;
  var last = null;

  function $(id) { return document.getElementById(id); }

  /** An element; children are nodes or strings (always text). */
  function el(tag, props, children) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'text') node.textContent = String(v);
        else if (k === 'className') node.className = String(v);
        else if (k === 'title') node.title = String(v);
        else node.setAttribute(k, String(v));
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  function badge(text, kind) { return el('span', { className: 'badge ' + kind, text: text }); }
  function sub(text) { return el('span', { className: 'sub', text: text }); }
  function dash() { return document.createTextNode('–'); }

  function two(n) { return (n < 10 ? '0' : '') + n; }
  function localTime(d) {
    return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate()) + ' ' +
      two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  }
  function relative(ms) {
    var s = Math.round(Math.abs(ms) / 1000);
    var min = Math.round(s / 60);
    var text;
    if (s < 60) text = s + ' s';
    else if (min < 60) text = min + ' min';
    else if (min < 2880) text = Math.floor(min / 60) + ' h' + (min % 60 ? ' ' + (min % 60) + ' min' : '');
    else text = Math.round(min / 1440) + ' days';
    return ms >= 0 ? 'in ' + text : text + ' ago';
  }
  /** A time cell: local time, and how far it is from now below it. */
  function when(iso) {
    if (!iso) return dash();
    var d = new Date(iso);
    if (isNaN(d.getTime())) return document.createTextNode(String(iso));
    var span = el('span', { className: 'when', title: iso }, [localTime(d)]);
    span.appendChild(sub(relative(d.getTime() - Date.now())));
    return span;
  }
  function pct(x) {
    if (x === null || x === undefined) return '–';
    var p = x * 100;
    return (p !== 0 && p < 1 ? p.toFixed(2) : p.toFixed(1).replace(/\.0$/, '')) + ' %';
  }
  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  function table(headers, rows, empty) {
    if (rows.length === 0) return el('p', { className: 'empty', text: empty });
    var head = el('thead', null, [el('tr', null, headers.map(function (h) {
      return el('th', { text: h });
    }))]);
    return el('table', null, [head, el('tbody', null, rows)]);
  }
  function row(cells, props) {
    return el('tr', props, cells.map(function (c) {
      if (c && c.nodeType === 1 && c.tagName === 'TD') return c;
      return el('td', null, [c === null || c === undefined ? dash() : c]);
    }));
  }
  function td(className, children) { return el('td', { className: className }, children); }

  function notice(text, kind) {
    var n = $('notice');
    if (!text) { n.hidden = true; n.textContent = ''; return; }
    n.className = 'notice' + (kind ? ' ' + kind : '');
    n.textContent = text;
    n.hidden = false;
  }

  // ---- parts ----

  function summary(o) {
    var open = o.breakers.filter(function (b) { return b.state === 'open'; }).length;
    var halfOpen = o.breakers.filter(function (b) { return b.state === 'half_open'; }).length;
    var off = o.accounts.filter(function (a) { return a.is_active === false; }).length;
    function card(n, label, kind) {
      return el('div', { className: 'card' + (kind && n > 0 ? ' ' + kind : '') }, [
        el('div', { className: 'n', text: n }),
        el('div', { className: 'label', text: label })
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
      card(o.webhooks.results.ambiguous, 'ambiguous webhook events', 'warn')
    );
  }

  function stateBadge(state) {
    return badge(state, state === 'open' ? 'bad' : state === 'half_open' ? 'warn' : 'ok');
  }

  function rateCell(rate, count, of, ruleRate, ruleMin, what) {
    var cell = td('', [pct(rate)]);
    cell.appendChild(sub(count + ' of ' + of + ' ' + what + ' · trips at ' + pct(ruleRate) + ' (min ' + ruleMin + ')'));
    return cell;
  }

  function breakers(o) {
    var rows = o.breakers.map(function (b) {
      var w = b.window;
      var tripped = b.state === 'open' || b.state === 'half_open';
      var volume = w.delivered + w.bounced;
      var trip = null;
      if (b.last_trip) {
        trip = el('span', null, [b.last_trip.reason + ' ']);
        trip.appendChild(when(b.last_trip.at));
      }
      var action = null;
      if (tripped && o.can_reset_breakers) {
        action = el('button', {
          type: 'button',
          'data-action': 'reset',
          'data-account': b.provider_id,
          text: 'Reset'
        });
      } else if (tripped) {
        action = el('span', { className: 'sub', text: 'reset needs the breaker (serve)' });
      }
      var state = td('', [stateBadge(b.state)]);
      if (b.state === 'open' && b.open_until) state.appendChild(sub('half-open ' + relative(Date.parse(b.open_until) - Date.now())));
      return row([
        el('span', { className: 'mono', text: b.provider_id }),
        state,
        rateCell(w.bounce_rate, w.hard_bounced, volume, b.rules.bounce_rate, b.rules.bounce_min_volume, 'hard'),
        rateCell(w.complaint_rate, w.complained, w.delivered, b.rules.complaint_rate, b.rules.complaint_min_volume, 'complaints'),
        td('num', [String(w.delivered), sub(Math.round(w.window_s / 60) + ' min window')]),
        td('num', [String(b.trips)]),
        trip,
        action
      ], { 'data-account': b.provider_id, 'data-state': b.state });
    });
    $('breakers').replaceChildren(table(
      ['Account', 'State', 'Bounce rate', 'Complaint rate', 'Delivered', 'Trips', 'Last trip', ''],
      rows,
      'No breaker has seen signals yet.'
    ));
    $('breakers-note').textContent = o.truncated.breakers
      ? 'showing ' + o.breakers.length + ' of ' + o.totals.breakers + ' (holding ones first)'
      : plural(o.breakers.length, 'account');
  }

  function accountStatus(a) {
    var cell = td('', []);
    if (a.is_active === true) cell.appendChild(badge(a.status || 'active', 'ok'));
    else if (a.is_active === false) cell.appendChild(badge(a.status || 'inactive', 'off'));
    else cell.appendChild(badge('unknown', 'off'));
    if (a.status_reason) cell.appendChild(sub(a.status_reason));
    return cell;
  }

  function holdsCell(a) {
    if (a.holds.length === 0) return td('', [dash()]);
    var cell = td('', a.holds.map(function (h) {
      return el('span', {
        className: 'chip',
        title: h.source + (h.reason ? ': ' + h.reason : '') + ' (since ' + h.at + ')',
        text: h.id
      });
    }));
    if (a.held_before) {
      cell.appendChild(sub(a.held_before === 'unknown'
        ? 'base unknown: stays off when released (activate brings it back)'
        : 'base: ' + a.held_before));
    }
    return cell;
  }

  function lastAction(a) {
    if (!a.last_action) return dash();
    var cell = td('', [a.last_action + ' ']);
    cell.appendChild(badge(a.last_outcome || '?', a.last_outcome === 'succeeded' ? 'ok' : 'bad'));
    cell.appendChild(sub((a.source || '') + (a.reason ? ' · ' + a.reason : '')));
    return cell;
  }

  function lastError(a) {
    if (!a.last_error) return dash();
    var e = a.last_error;
    var cell = td('msg', [e.code + (e.http_status ? ' (' + e.http_status + ')' : '')]);
    cell.appendChild(sub(e.message));
    return cell;
  }

  function accounts(o) {
    var rows = o.accounts.map(function (a) {
      return row([
        el('span', { className: 'mono', text: a.provider_id }),
        accountStatus(a),
        holdsCell(a),
        lastAction(a),
        when(a.recorded_at),
        lastError(a)
      ], { 'data-account': a.provider_id });
    });
    $('accounts').replaceChildren(table(
      ['Account', 'Status', 'Holds', 'Last action', 'Recorded', 'Last error'],
      rows,
      'No account has been switched yet.'
    ));
    $('accounts-note').textContent = o.truncated.accounts
      ? 'showing ' + o.accounts.length + ' of ' + o.totals.accounts + ' (held first, then most recently changed)'
      : plural(o.accounts.length, 'account');
  }

  function targets(t) {
    var cell = td('', [t.kind === 'filter' ? 'filter ' + t.text : t.text]);
    if (t.accounts.length > 0) {
      cell.appendChild(sub(t.accounts.join(', ') + (t.count > t.accounts.length ? ', …' : '')));
    }
    return cell;
  }

  function windows(o) {
    var w = o.windows;
    if (!w.available) {
      $('windows-note').textContent = 'not served by this server';
    } else {
      $('windows-note').textContent = o.truncated.windows
        ? 'from the ' + o.limits.windows + ' newest of ' + o.totals.windows + ' windows'
        : plural(o.totals.windows, 'window');
    }
    $('windows-running').replaceChildren(table(
      ['Window', 'State', 'Started', 'Ends', 'Accounts', 'Reason'],
      w.running.map(function (r) {
        return row([
          el('span', { className: 'mono', text: r.window_id }),
          badge(r.state, 'warn'),
          when(r.started_at || r.starts_at),
          when(r.ends_at),
          targets(r.targets),
          r.reason || null
        ], { 'data-window': r.window_id });
      }),
      'No window is running.'
    ));
    $('windows-upcoming').replaceChildren(table(
      ['Window', 'Next start', 'Ends', 'Schedule', 'Accounts', 'Reason'],
      w.upcoming.map(function (u) {
        return row([
          el('span', { className: 'mono', text: u.window_id }),
          when(u.next_starts[0]),
          when(u.next_ends_at),
          u.schedule || 'once',
          targets(u.targets),
          u.reason || null
        ], { 'data-window': u.window_id });
      }),
      'No window is scheduled.'
    ));
  }

  function failures(o) {
    var rows = o.failures.map(function (f) {
      var code = td('', [badge(f.error_code || 'failed', 'bad')]);
      if (f.http_status) code.appendChild(sub('HTTP ' + f.http_status));
      var msg = td('msg', [f.error_message || '']);
      if (f.request_id) msg.appendChild(sub('request ' + f.request_id));
      return row([
        when(f.at),
        el('span', { className: 'mono', text: f.provider_id }),
        f.action,
        code,
        msg,
        td('', [f.source || '', sub(f.idempotency_key || '')])
      ], { 'data-account': f.provider_id });
    });
    $('failures').replaceChildren(table(
      ['When', 'Account', 'Action', 'Error', 'Message', 'Source'],
      rows,
      'No failed action among the latest events.'
    ));
    $('failures-note').textContent = 'latest ' + o.limits.failures + ' among the ' + o.failures_scanned + ' newest events';
    // Window steps that left targets in the wrong state (window.failed).
    $('window-failures').replaceChildren(table(
      ['When', 'Window', 'Step', 'Accounts', 'Why'],
      (o.window_failures || []).map(function (f) {
        return row([
          when(f.at),
          td('mono', [f.window_id, sub(f.occurrence)]),
          td('', [badge(f.step, 'bad')]),
          td('mono', [f.provider_ids.join(', ')]),
          td('msg', [f.why])
        ], { 'data-window': f.window_id });
      }),
      'No window step failed among the latest events.'
    ));
  }

  /** Webhook events counted for no account: the counters, the latest ambiguous and unresolved. */
  function webhooks(o) {
    var w = o.webhooks;
    var counts = Object.keys(w.results).filter(function (k) { return w.results[k] > 0; })
      .map(function (k) { return k + ' ' + w.results[k]; });
    $('webhooks-note').textContent = counts.length > 0 ? counts.join(' · ') : 'no webhook event processed yet';
    function event(e) {
      var message = td('msg', [e.sender || '–']);
      if (e.message_id) message.appendChild(sub(e.message_id));
      return [when(e.at), el('span', { className: 'mono', text: e.event_id }), e.type, message];
    }
    $('webhooks-ambiguous').replaceChildren(table(
      ['When', 'Event', 'Type', 'Sender', 'Candidates'],
      w.ambiguous.map(function (e) {
        var candidates = td('mono', [e.candidates.join(', ')]);
        candidates.appendChild(sub(e.via === 'delivery_log' ? 'named by the delivery log' : 'share this from_email'));
        return row(event(e).concat([candidates]), { 'data-event': e.event_id });
      }),
      'No ambiguous event among the latest ' + o.limits.webhook_events + '.'
    ));
    $('webhooks-unresolved').replaceChildren(table(
      ['When', 'Event', 'Type', 'Sender'],
      w.unresolved.map(function (e) { return row(event(e), { 'data-event': e.event_id }); }),
      'No unresolved event among the latest ' + o.limits.webhook_events + '.'
    ));
  }

  function render(o) {
    last = o;
    summary(o);
    breakers(o);
    accounts(o);
    windows(o);
    failures(o);
    webhooks(o);
    $('updated').textContent = 'updated ' + localTime(new Date(o.generated_at));
  }

  async function problem(res) {
    try {
      var body = await res.json();
      if (body && body.error) return 'HTTP ' + res.status + ' ' + body.error.code + ': ' + body.error.message;
    } catch (e) { /* not JSON */ }
    return 'HTTP ' + res.status;
  }

  async function refresh() {
    if (loading) return;
    loading = true;
    clearTimeout(timer);
    try {
      var res = await fetch('v1/overview', { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (!res.ok) {
        var text = await problem(res);
        if (res.status === 401) text = 'Not signed in (' + text + '): reload the page to enter ADMIN_TOKEN.';
        $('updated').textContent = 'refresh failed';
        notice(text, 'error');
      } else {
        render(await res.json());
        if ($('notice').classList.contains('error')) notice('');
      }
    } catch (err) {
      $('updated').textContent = 'refresh failed';
      notice('Cannot reach the server: ' + (err && err.message ? err.message : String(err)), 'error');
    } finally {
      loading = false;
      timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  async function reset(button) {
    var account = button.getAttribute('data-account');
    if (!account) return;
    if (!window.confirm('Reset the breaker of ' + account + '? Its hold is released and the account comes back on if nothing else holds it.')) return;
    button.disabled = true;
    try {
      var res = await fetch('v1/breaker/' + encodeURIComponent(account) + '/reset', { method: 'POST' });
      if (res.ok) {
        var body = await res.json();
        var back = body.hold && body.hold.last && body.hold.before === 'active';
        notice('Breaker of ' + account + ' reset' + (back ? ': the account is being switched back on.' : ': the account stays off (other holds, or off before).'), 'ok');
      } else {
        notice('Reset of ' + account + ' failed: ' + (await problem(res)), 'error');
      }
    } catch (err) {
      notice('Reset of ' + account + ' failed: ' + (err && err.message ? err.message : String(err)), 'error');
    }
    await refresh();
  }

  document.addEventListener('click', function (ev) {
    var target = ev.target;
    if (!(target instanceof Element)) return;
    var button = target.closest('button[data-action="reset"]');
    if (button && !button.disabled) void reset(button);
  });
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && last) void refresh();
  });
  void refresh();
})();
`;
