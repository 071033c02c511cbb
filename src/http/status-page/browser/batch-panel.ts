/**
 * The bulk runs panel: the most recent batches (GET v1/batches), running ones first, with
 * their progress (done / total), failures, state and times; who started a run and its undo
 * when the server's answer has them (`created_by`, `cancelled_by`, `undo`: `undone`, by whom,
 * its time and counts, or `undo running`; the row's `data-undo` says the same). Cancel (a
 * running batch) and Undo (a finished deactivate run with no undo yet) buttons, unless the
 * token is read-only (actions.ts runs them).
 */
import { $, badge, dash, el, row, sub, table, td, when } from './dom.js';
import { errorText, getJson, problem } from './http.js';
import type { PageBatch, PageBatchesAnswer } from './overview.js';

/** Batches shown. */
export const BATCHES_SHOWN = 20;

function done(b: PageBatch): number {
  return b.succeeded + b.failed + b.superseded + b.cancelled;
}

function state(b: PageBatch): { text: string; kind: string } {
  if (b.finished_at === null) return { text: 'running', kind: 'warn' };
  if (b.cancelled_at !== null) return { text: 'cancelled', kind: 'off' };
  return b.failed > 0 ? { text: 'finished', kind: 'bad' } : { text: 'finished', kind: 'ok' };
}

function progress(b: PageBatch): HTMLTableCellElement {
  const cell = td('num', [String(done(b)) + ' / ' + String(b.total)]);
  // Through the CSSOM: the CSP refuses style attributes, not this.
  const fill = el('span', { className: 'fill' });
  fill.style.width = String(b.total > 0 ? Math.round((100 * done(b)) / b.total) : 0) + '%';
  cell.appendChild(el('span', { className: 'bar' }, [fill]));
  const parts = [String(b.succeeded) + ' succeeded'];
  if (b.superseded) parts.push(String(b.superseded) + ' superseded');
  if (b.cancelled) parts.push(String(b.cancelled) + ' cancelled');
  if (b.queued) parts.push(String(b.queued) + ' queued');
  cell.appendChild(sub(parts.join(' · ')));
  return cell;
}

/** The undo's state as the page says it: `undone` once done, `undo running` before. */
function undoState(b: PageBatch): string | null {
  if (!b.undo) return null;
  return b.undo.state === 'done' ? 'undone' : 'undo ' + (b.undo.state ?? 'running');
}

function undoCell(b: PageBatch): Node {
  const u = b.undo;
  const s = undoState(b);
  if (!u || !s) return dash();
  const cell = td('', [badge(s, u.state === 'done' ? 'off' : 'warn')]);
  if (u.by) cell.appendChild(sub('by ' + u.by));
  if (u.finished_at) cell.appendChild(when(u.finished_at));
  else if (u.started_at) cell.appendChild(when(u.started_at));
  const counts: string[] = [];
  if (typeof u.reactivated === 'number') counts.push(String(u.reactivated) + ' reactivated');
  if (typeof u.still_held === 'number' && u.still_held > 0) {
    counts.push(String(u.still_held) + ' still held');
  }
  if (counts.length > 0) cell.appendChild(sub(counts.join(' · ')));
  return cell;
}

function buttons(b: PageBatch, readOnly: boolean): Node {
  if (readOnly) return dash();
  const id = b.batch_id;
  if (b.finished_at === null) {
    return el('button', {
      type: 'button',
      'data-action': 'cancel',
      'data-batch': id,
      text: 'Cancel',
    });
  }
  // Undo: a deactivate run that switched something off, with no undo recorded yet.
  if (b.action === 'deactivate' && b.succeeded > 0 && !b.undo) {
    return el('button', { type: 'button', 'data-action': 'undo', 'data-batch': id, text: 'Undo' });
  }
  return dash();
}

function render(batches: readonly PageBatch[], readOnly: boolean): void {
  // Running first, then the newest.
  const sorted = batches
    .slice()
    .sort((a, b) => Number(a.finished_at !== null) - Number(b.finished_at !== null));
  const rows = sorted.map((b) => {
    const s = state(b);
    const stateCell = td('', [badge(s.text, s.kind)]);
    if (b.cancelled_at !== null && b.cancelled_by)
      stateCell.appendChild(sub('by ' + b.cancelled_by));
    const started = td('', [when(b.created_at)]);
    if (b.created_by) started.appendChild(sub('by ' + b.created_by));
    const reason = td('msg', [b.reason || '']);
    return row(
      [
        el('span', { className: 'mono', text: b.batch_id }),
        b.action,
        stateCell,
        progress(b),
        td('num', [b.failed > 0 ? badge(String(b.failed), 'bad') : '0']),
        started,
        when(b.finished_at),
        undoCell(b),
        reason,
        buttons(b, readOnly),
      ],
      { 'data-batch': b.batch_id, 'data-state': s.text, 'data-undo': undoState(b) },
    );
  });
  $('batches').replaceChildren(
    table(
      [
        'Batch',
        'Action',
        'State',
        'Progress',
        'Failed',
        'Created',
        'Finished',
        'Undo',
        'Reason',
        '',
      ],
      rows,
      'No bulk run yet.',
    ),
  );
  const running = batches.filter((b) => b.finished_at === null).length;
  $('batches-note').textContent =
    String(running) + ' running · the ' + String(batches.length) + ' most recent';
}

/** Fetch and render the batches. */
export async function loadBatches(readOnly: boolean): Promise<void> {
  try {
    const res = await getJson('v1/batches?limit=' + String(BATCHES_SHOWN));
    if (!res.ok) {
      $('batches-note').textContent = 'cannot read the batches: ' + (await problem(res));
      return;
    }
    render(((await res.json()) as PageBatchesAnswer).batches, readOnly);
  } catch (err) {
    $('batches-note').textContent = 'cannot read the batches: ' + errorText(err);
  }
}
