/**
 * A bulk run's input, readable twice from its start without holding it in memory: a file, a
 * stream (copied to a temporary file on the first reading), a list, or an API listing.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { InvalidInputError, UsageError } from '../../errors.js';
import type { ListFilter } from '../../sendmux/client.js';
import type { ProviderItem } from '../../sendmux/schemas.js';
import type { AccountLister } from './accounts.js';
import { listIdLines, readIdLines, type IdLine } from './ids.js';

export type BulkSource =
  /** A file path; `-` reads standard input. */
  | { kind: 'file'; path: string }
  /** Any text stream (one id per line or CSV), e.g. an upload. */
  | { kind: 'stream'; input: Readable; name: string }
  | { kind: 'ids'; ids: readonly string[] }
  /** The team's accounts matching a listing filter, read from the API page by page. */
  | { kind: 'filter'; filter: ListFilter };

/** A line of input; from a listing, with what the API said about the account. */
export type InputLine = IdLine & { item?: ProviderItem };

export interface Input {
  /** How users call it in messages (`--file ids.txt`, `stdin (--file -)`, `--ids`, ...). */
  name: string;
  /** Ids that come from the API: valid by construction, and costly to read twice. */
  fromApi: boolean;
  /** A fresh reading of the input from its start, a batch of lines at a time. */
  lines(): AsyncIterable<InputLine[]>;
  close(): Promise<void>;
}

/** Listed accounts handed on at once (a listing page is at most 100). */
const LISTED_BATCH = 100;

/** Invalid lines named in messages; the rest are counted. */
export const PROBLEMS_SHOWN = 20;

export async function openInput(source: BulkSource, accounts?: AccountLister): Promise<Input> {
  const none = async () => {};
  switch (source.kind) {
    case 'ids':
      return {
        name: '--ids',
        fromApi: false,
        // eslint-disable-next-line @typescript-eslint/require-await -- an async view of a list
        lines: async function* () {
          yield [...listIdLines(source.ids)];
        },
        close: none,
      };
    case 'file': {
      if (source.path === '-') return spooled(process.stdin, 'stdin (--file -)');
      const name = `--file ${source.path}`;
      return {
        name,
        fromApi: false,
        lines: () => fileLines(source.path, name),
        close: none,
      };
    }
    case 'stream':
      return spooled(source.input, source.name);
    case 'filter': {
      if (!accounts) throw new UsageError('--filter: needs the API (SENDMUX_API_KEY)');
      const shown = Object.entries(source.filter)
        .filter(([k]) => k !== 'limit')
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',');
      return {
        name: `--filter ${shown}`,
        fromApi: true,
        lines: async function* () {
          let n = 0;
          let batch: InputLine[] = [];
          for await (const item of accounts.list(source.filter)) {
            n++;
            batch.push({ line: n, id: item.id, item });
            if (batch.length >= LISTED_BATCH) {
              yield batch;
              batch = [];
            }
          }
          if (batch.length > 0) yield batch;
        },
        close: none,
      };
    }
  }
}

/**
 * The first reading: every line checked, nothing done. Throws an InvalidInputError naming the
 * first invalid lines (unless `skipInvalid`), a UsageError when there is no id at all.
 * `valid` counts the valid lines, repeats included (undefined for a listing: not read here).
 */
export async function checkInput(
  input: Input,
  skipInvalid: boolean,
): Promise<{ invalid: number; problems: string[]; valid: number | undefined }> {
  if (input.fromApi) return { invalid: 0, problems: [], valid: undefined };
  let valid = 0;
  let invalid = 0;
  const problems: string[] = [];
  for await (const batch of input.lines()) {
    for (const l of batch) {
      if (l.problem === undefined) {
        valid++;
      } else {
        invalid++;
        if (problems.length < PROBLEMS_SHOWN) problems.push(l.problem);
      }
    }
  }
  if (invalid > 0 && !skipInvalid) throw new InvalidInputError(input.name, invalid, problems);
  if (valid === 0) throw new UsageError(`${input.name}: no account ids`);
  return { invalid, problems, valid };
}

/** A file's lines; an unreadable file fails the run with a usage error that names it. */
async function* fileLines(path: string, name: string): AsyncGenerator<IdLine[]> {
  try {
    yield* readIdLines(createReadStream(path, { highWaterMark: READ_SIZE }), name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof Error && typeof code === 'string' && !(err instanceof UsageError)) {
      throw new UsageError(`--file ${path}: cannot read it (${code})`);
    }
    throw err;
  }
}

/** Bytes per read of a file: ~6,000 ids. */
const READ_SIZE = 256 * 1024;

/** A stream can be read once: the first reading copies it to a temporary file. */
async function spooled(stream: Readable, name: string): Promise<Input> {
  const dir = await mkdtemp(join(tmpdir(), 'sdx-bulk-'));
  const path = join(dir, 'input');
  let copied = false;
  return {
    name,
    fromApi: false,
    async *lines() {
      if (copied) {
        yield* readIdLines(createReadStream(path), name);
        return;
      }
      const copy = createWriteStream(path);
      const tee = new PassThrough();
      stream.pipe(tee);
      tee.pipe(copy);
      yield* readIdLines(tee, name);
      await finished(copy);
      copied = true;
    },
    async close() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
