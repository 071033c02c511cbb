/**
 * The status page's script (served as /status.js, bundled from these files by ../bundle.ts; no
 * framework). It fetches GET v1/overview, the bulk runs (v1/batches) and a page of accounts
 * (v1/accounts, searched: accounts-search.ts) from its own server (http.ts: URLs without the
 * credentials a page opened as `http://user:TOKEN@host/` has in its address; the browser sends
 * its Basic credentials itself), renders every value as text (dom.ts), refreshes every 5 s, and
 * runs its buttons (actions.ts: breaker reset, batch cancel and undo), which are hidden when
 * GET v1/whoami says the token is read-only (`kind: "read"`; no kind means admin).
 */
import { setUpAccounts, loadAccounts } from './accounts-search.js';
import { onButton } from './actions.js';
import { loadBatches } from './batch-panel.js';
import { $, notice } from './dom.js';
import { errorText, getJson, problem } from './http.js';
import type { PageOverview, PageWhoami } from './overview.js';
import { render } from './panels.js';

/** As the page's footer says. */
const REFRESH_MS = 5_000;
let timer: ReturnType<typeof setTimeout> | undefined;
let loading = false;
let last: PageOverview | null = null;
/** Read-only token: no buttons. Asked once, at the first refresh. */
let readOnly: boolean | undefined;

async function whoami(): Promise<boolean> {
  try {
    const res = await getJson('v1/whoami');
    return res.ok && ((await res.json()) as PageWhoami).kind === 'read';
  } catch {
    return false;
  }
}

async function overview(): Promise<void> {
  const res = await getJson('v1/overview');
  if (!res.ok) {
    let text = await problem(res);
    if (res.status === 401) {
      text = 'Not signed in (' + text + '): reload the page to enter ADMIN_TOKEN.';
    }
    $('updated').textContent = 'refresh failed';
    notice(text, 'error');
    return;
  }
  last = (await res.json()) as PageOverview;
  render(last, readOnly === true);
  if ($('notice').classList.contains('error')) notice('');
}

async function refresh(): Promise<void> {
  if (loading) return;
  loading = true;
  clearTimeout(timer);
  try {
    readOnly ??= await whoami();
    await Promise.all([overview(), loadBatches(readOnly), loadAccounts()]);
  } catch (err) {
    $('updated').textContent = 'refresh failed';
    notice('Cannot reach the server: ' + errorText(err), 'error');
  } finally {
    loading = false;
    timer = setTimeout(() => void refresh(), REFRESH_MS);
  }
}

document.addEventListener('click', onButton(refresh));
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && last) void refresh();
});
setUpAccounts();
void refresh();
