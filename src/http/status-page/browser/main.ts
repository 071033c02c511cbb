/**
 * The status page's script (served as /status.js, bundled from these files by ../bundle.ts; no
 * framework). It fetches GET v1/overview (same origin: the browser sends its Basic credentials
 * itself), renders every value as text (dom.ts), refreshes every 5 s, and resets a tripped
 * breaker with POST v1/breakers/:account/reset. URLs are relative, as in the HTML shell.
 */
import { $, notice } from './dom.js';
import type { PageErrorAnswer, PageOverview, PageResetAnswer } from './overview.js';
import { render } from './panels.js';

/** As the page's footer says. */
const REFRESH_MS = 5_000;
let timer: ReturnType<typeof setTimeout> | undefined;
let loading = false;
let last: PageOverview | null = null;

function errorText(err: unknown): string {
  return err instanceof Error && err.message ? err.message : String(err);
}

/** An error answer as one line: `HTTP 409 code: message`, or its status alone. */
async function problem(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as PageErrorAnswer | null;
    if (body?.error) return `HTTP ${res.status} ${body.error.code}: ${body.error.message}`;
  } catch {
    /* not JSON */
  }
  return `HTTP ${res.status}`;
}

async function refresh(): Promise<void> {
  if (loading) return;
  loading = true;
  clearTimeout(timer);
  try {
    const res = await fetch('v1/overview', {
      headers: { accept: 'application/json' },
      cache: 'no-store',
    });
    if (!res.ok) {
      let text = await problem(res);
      if (res.status === 401) {
        text = 'Not signed in (' + text + '): reload the page to enter ADMIN_TOKEN.';
      }
      $('updated').textContent = 'refresh failed';
      notice(text, 'error');
    } else {
      last = (await res.json()) as PageOverview;
      render(last);
      if ($('notice').classList.contains('error')) notice('');
    }
  } catch (err) {
    $('updated').textContent = 'refresh failed';
    notice('Cannot reach the server: ' + errorText(err), 'error');
  } finally {
    loading = false;
    timer = setTimeout(() => void refresh(), REFRESH_MS);
  }
}

async function reset(button: HTMLButtonElement): Promise<void> {
  const account = button.getAttribute('data-account');
  if (!account) return;
  const question =
    'Reset the breaker of ' +
    account +
    '? Its hold is released and the account comes back on if nothing else holds it.';
  if (!window.confirm(question)) return;
  button.disabled = true;
  try {
    const res = await fetch('v1/breakers/' + encodeURIComponent(account) + '/reset', {
      method: 'POST',
    });
    if (res.ok) {
      const body = (await res.json()) as PageResetAnswer;
      const back = body.hold?.last && body.hold.before === 'active';
      notice(
        'Breaker of ' +
          account +
          ' reset' +
          (back
            ? ': the account is being switched back on.'
            : ': the account stays off (other holds, or off before).'),
        'ok',
      );
    } else {
      notice('Reset of ' + account + ' failed: ' + (await problem(res)), 'error');
    }
  } catch (err) {
    notice('Reset of ' + account + ' failed: ' + errorText(err), 'error');
  }
  await refresh();
}

document.addEventListener('click', (ev) => {
  const target = ev.target;
  if (!(target instanceof Element)) return;
  const button = target.closest<HTMLButtonElement>('button[data-action="reset"]');
  if (button && !button.disabled) void reset(button);
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && last) void refresh();
});
void refresh();
