/**
 * The accounts panel: recorded accounts a page at a time, searched by part of the id, served
 * by the server (GET v1/accounts?q=&cursor=&limit=: it walks its index, so this works at
 * 100,000 accounts). The search box asks again as the text changes (after a short pause);
 * Next follows the answer's `next_cursor`, Previous goes back to the cursor that page came
 * from. The page refreshes with the rest of the page, on the same cursor.
 */
import { accountsTable } from './account-panels.js';
import { $ } from './dom.js';
import { errorText, getJson, problem } from './http.js';
import type { PageAccountsAnswer } from './overview.js';

/** Accounts per page. */
export const ACCOUNTS_PAGE = 50;

let q = '';
/** The cursors of the pages before this one (null: the first page). */
const back: (string | null)[] = [];
let cursor: string | null = null;
let next: string | null = null;
let typing: ReturnType<typeof setTimeout> | undefined;

function path(): string {
  const params = new URLSearchParams({ limit: String(ACCOUNTS_PAGE) });
  if (q) params.set('q', q);
  if (cursor) params.set('cursor', cursor);
  return 'v1/accounts?' + params.toString();
}

/** Fetch and render the current page of accounts. */
export async function loadAccounts(): Promise<void> {
  const note = $('accounts-note');
  try {
    const res = await getJson(path());
    if (!res.ok) {
      note.textContent = 'search failed: ' + (await problem(res));
      return;
    }
    const answer = (await res.json()) as PageAccountsAnswer;
    next = answer.next_cursor;
    $('accounts').replaceChildren(
      accountsTable(
        answer.accounts,
        q
          ? 'No recorded account id contains "' + q + '" here.'
          : 'No account has been switched yet.',
      ),
    );
    const n = answer.accounts.length;
    note.textContent =
      (q ? 'ids containing "' + q + '": ' : '') +
      'page ' +
      String(back.length + 1) +
      ', ' +
      String(n) +
      (n === 1 ? ' account' : ' accounts') +
      ' (most recently changed first)';
  } catch (err) {
    note.textContent = 'search failed: ' + errorText(err);
  }
  ($('accounts-prev') as HTMLButtonElement).disabled = back.length === 0;
  ($('accounts-next') as HTMLButtonElement).disabled = next === null;
}

function restart(text: string): void {
  q = text.trim();
  back.length = 0;
  cursor = null;
  void loadAccounts();
}

/** Wire the search box and the paging buttons. */
export function setUpAccounts(): void {
  const input = $('accounts-q') as HTMLInputElement;
  input.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      restart(input.value);
    }, 300);
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    clearTimeout(typing);
    restart(input.value);
  });
  $('accounts-next').addEventListener('click', () => {
    if (next === null) return;
    back.push(cursor);
    cursor = next;
    void loadAccounts();
  });
  $('accounts-prev').addEventListener('click', () => {
    if (back.length === 0) return;
    cursor = back.pop() ?? null;
    void loadAccounts();
  });
}
