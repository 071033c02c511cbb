/**
 * The page's panels rendered from one overview into their elements of the HTML shell
 * (html.ts): the summary cards here; breakers and held accounts in account-panels.ts; windows,
 * failures and webhook events in activity-panels.ts. The accounts and bulk runs panels have
 * their own requests (accounts-search.ts, batch-panel.ts).
 */
import { breakers, held } from './account-panels.js';
import { failures, webhooks, windows } from './activity-panels.js';
import { $, el } from './dom.js';
import { utcTime } from './format.js';
import type { PageOverview } from './overview.js';

function summary(o: PageOverview): void {
  const open = o.breakers.filter((b) => b.state === 'open').length;
  const halfOpen = o.breakers.filter((b) => b.state === 'half_open').length;
  const warning = o.breakers.filter((b) => b.warning !== null).length;
  function card(n: number, label: string, kind?: string) {
    return el(
      'div',
      { className: 'card' + (kind && n > 0 ? ' ' + kind : ''), 'data-card': label },
      [el('div', { className: 'n', text: n }), el('div', { className: 'label', text: label })],
    );
  }
  $('summary').replaceChildren(
    card(o.totals.accounts, 'accounts recorded'),
    card(o.totals.held, 'held (a hold stands)'),
    card(o.totals.held_off, 'held and off'),
    card(o.totals.held_still_on, 'held, still on', 'bad'),
    card(open, 'breakers open', 'bad'),
    card(halfOpen, 'breakers half-open', 'warn'),
    card(warning, 'breakers warning', 'warn'),
    card(o.windows.running.length, 'windows running', 'warn'),
    card(o.failures.length, 'recent failures', 'bad'),
    card(o.webhooks.results.ambiguous, 'ambiguous webhook events', 'warn'),
  );
}

/** Every panel, and the time of the overview in the header. */
export function render(o: PageOverview, readOnly: boolean): void {
  summary(o);
  breakers(o, readOnly);
  held(o);
  windows(o);
  failures(o);
  webhooks(o);
  $('updated').textContent = 'updated ' + utcTime(new Date(o.generated_at), true);
}
