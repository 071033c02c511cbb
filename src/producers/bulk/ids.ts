/**
 * Account ids for a bulk run, read line by line from a file, stdin or a list, without holding
 * the input in memory. Accepted: one id per line, or CSV whose header has an `id` column
 * (quoted fields allowed; a field may not span lines). Blank lines and lines starting with `#`
 * are ignored. Every other line yields an id or a problem, with its line number (from 1).
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { UsageError } from '../../errors.js';
import { ACCOUNT_ID_RULE, ACCOUNT_ID_RULE_TEXT } from '../../model.js';

export type IdLine =
  | { line: number; id: string; problem?: undefined }
  | { line: number; id?: undefined; problem: string };

/** Split one CSV line into fields ("" inside quotes is a quote). */
export function splitCsvLine(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (c === ',') {
      fields.push(field.trim());
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(quoted ? field : field.trim());
  return fields;
}

/** Longest part of a line a message quotes (escaped). */
const SHOWN_CHARS = 60;

/**
 * A line's text for a message, safe on a terminal: printable ASCII as is, `"` and `\` and
 * everything else escaped (`\t`, `\xNN`, `\uNNNN`: a binary file's bytes, decoded as UTF-8,
 * are never echoed raw), cut at about {@link SHOWN_CHARS} characters with `...`.
 */
export function shown(value: string): string {
  let out = '';
  for (const ch of value) {
    if (out.length >= SHOWN_CHARS) return `${out}...`;
    out += escaped(ch);
  }
  return out;
}

const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

function escaped(ch: string): string {
  const named = NAMED_ESCAPES[ch];
  if (named !== undefined) return named;
  const code = ch.codePointAt(0) ?? 0;
  if (code >= 0x20 && code < 0x7f) return ch;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/** The id on a line, or what is wrong with it. */
function check(line: number, value: string): IdLine {
  if (value === '') return { line, problem: `line ${line}: no account id` };
  if (!ACCOUNT_ID_RULE.test(value)) {
    return { line, problem: `line ${line}: "${shown(value)}" ${ACCOUNT_ID_RULE_TEXT}` };
  }
  return { line, id: value };
}

/** Line breaks as readline knows them: LF, CRLF, or a lone CR. */
const LINE_BREAK = /\r\n|\r|\n/;

/**
 * The ids of a text input, a batch per chunk read (a few thousand lines): one promise per chunk
 * rather than per line, which is most of the cost of reading 100k ids. Throws a UsageError for
 * a CSV header without an `id` column; `name` is how the input is called in that message
 * (`--file ids.csv`, `stdin`).
 */
export async function* readIdLines(input: Readable, name: string): AsyncGenerator<IdLine[]> {
  const decoder = new StringDecoder('utf8');
  let n = 0;
  let column: number | undefined; // CSV: the id column; undefined: one id per line
  let first = true;
  const read = (raw: string, out: IdLine[]) => {
    n++;
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    if (first) {
      first = false;
      const header = splitCsvLine(text).map((h) => h.toLowerCase());
      if (text.includes(',') || header[0] === 'id') {
        const at = header.indexOf('id');
        if (at < 0) {
          throw new UsageError(
            `${name}: line ${n} looks like a CSV header but has no "id" column (columns: ${shown(header.join(', '))})`,
          );
        }
        column = at;
        return;
      }
    }
    out.push(check(n, column === undefined ? text : (splitCsvLine(text)[column] ?? '')));
  };
  let rest = '';
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    const parts = text.split(LINE_BREAK);
    // The last part is not a whole line yet; nor is one ending in CR (its LF may be next).
    rest = parts.pop() ?? '';
    if (text.endsWith('\r')) rest = `${parts.pop() ?? ''}\r`;
    const out: IdLine[] = [];
    for (const raw of parts) read(raw, out);
    if (out.length > 0) yield out;
  }
  const last = rest + decoder.end();
  if (last !== '') {
    const out: IdLine[] = [];
    for (const raw of last.split(LINE_BREAK)) read(raw, out);
    if (out.length > 0) yield out;
  }
}

/** The ids of a list (`--ids a,b,c`), numbered as items from 1. */
export function* listIdLines(ids: readonly string[]): Generator<IdLine> {
  let n = 0;
  for (const raw of ids) {
    n++;
    const value = raw.trim();
    if (value === '') continue;
    const checked = check(n, value);
    yield checked.problem === undefined
      ? checked
      : { line: n, problem: checked.problem.replace(/^line /, 'item ') };
  }
}
