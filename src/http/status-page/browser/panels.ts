/**
 * The page's panels, each rendered from one overview into its elements of the HTML shell
 * (html.ts): the summary cards here; breakers and accounts in account-panels.ts; windows,
 * failures and webhook events in activity-panels.ts.
 */
import { accounts, breakers } from './account-panels.js';
import { failures, webhooks, windows } from './activity-panels.js';
import { $, el } from './dom.js';
import { localTime } from './format.js';
import type { PageOverview } from './overview.js';

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
