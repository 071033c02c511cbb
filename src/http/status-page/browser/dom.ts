/**
 * Building the page's elements: every value goes in as text (textContent or a text node, never
 * innerHTML), so nothing the API answers can become markup.
 */
import { relative, utcTime } from './format.js';

/** An element of the page's HTML shell (html.ts); a missing one is a bug of the page. */
export function $(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (!node) throw new Error('#' + id + ' is missing from the page');
  return node;
}

type Props = Record<string, string | number | boolean | null | undefined>;
/** A child: a node, or a string (always text); null and undefined are skipped. */
export type Child = Node | string | null | undefined;

/** An element; `text` sets its text, `className` and `title` their property, others attributes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  children?: readonly Child[],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props) {
    Object.keys(props).forEach((k) => {
      const v = props[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') node.textContent = String(v);
      else if (k === 'className') node.className = String(v);
      else if (k === 'title') node.title = String(v);
      else node.setAttribute(k, String(v));
    });
  }
  (children ?? []).forEach((c) => {
    if (c === null || c === undefined) return;
    node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  });
  return node;
}

export function badge(text: string, kind: string): HTMLSpanElement {
  return el('span', { className: 'badge ' + kind, text: text });
}
export function sub(text: string): HTMLSpanElement {
  return el('span', { className: 'sub', text: text });
}
export function dash(): Text {
  return document.createTextNode('–');
}

/** A time cell: the time in UTC (labelled), and how far it is from now below it. */
export function when(iso: string | null | undefined): Node {
  if (!iso) return dash();
  const d = new Date(iso);
  if (isNaN(d.getTime())) return document.createTextNode(iso);
  const span = el('span', { className: 'when', title: iso }, [utcTime(d)]);
  span.appendChild(sub(relative(d.getTime() - Date.now())));
  return span;
}

/** A table, or a paragraph saying `empty` when there are no rows. */
export function table(
  headers: readonly string[],
  rows: readonly HTMLTableRowElement[],
  empty: string,
): HTMLElement {
  if (rows.length === 0) return el('p', { className: 'empty', text: empty });
  const head = el('thead', null, [
    el(
      'tr',
      null,
      headers.map((h) => el('th', { text: h })),
    ),
  ]);
  return el('table', null, [head, el('tbody', null, rows)]);
}

/** A row: a cell given as a `td` is used as it is, anything else goes in a new one (`–` for none). */
export function row(cells: readonly Child[], props?: Props | null): HTMLTableRowElement {
  return el(
    'tr',
    props,
    cells.map((c) => {
      if (c instanceof HTMLTableCellElement && c.tagName === 'TD') return c;
      return el('td', null, [c === null || c === undefined ? dash() : c]);
    }),
  );
}

export function td(className: string, children: readonly Child[]): HTMLTableCellElement {
  return el('td', { className: className }, children);
}

/** The notice line under the legend: hidden without text; `kind` is `ok` or `error`. */
export function notice(text: string, kind?: string): void {
  const n = $('notice');
  if (!text) {
    n.hidden = true;
    n.textContent = '';
    return;
  }
  n.className = 'notice' + (kind ? ' ' + kind : '');
  n.textContent = text;
  n.hidden = false;
}
