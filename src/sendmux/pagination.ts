/**
 * The guard of every cursor listing: a listing must end. An API (or a mock of one, such as a
 * generated server that always answers `has_more: true, next_cursor: "string"`) that hands back
 * a cursor it already gave would be followed for ever, spending the shared rate budget with
 * every page and starving every other call of the key. So a listing stops with a typed
 * {@link SendmuxError} (code `invalid_pagination`, kind `permanent`: asking again loops again)
 * when a cursor repeats, or when it has read more pages than any team holds
 * ({@link MAX_LIST_PAGES}). Callers treat it as any failed read: bulk exits with it, the
 * breaker's account refresh and a window's read report it and carry on.
 */
import { SendmuxError } from './errors.js';

/**
 * Pages a listing may read: 10,000 pages of 100 is a million accounts, far beyond a team's
 * sending accounts; a listing past it is a loop with changing cursors.
 */
export const MAX_LIST_PAGES = 10_000;

/** The error code of a listing that would not end. */
export const INVALID_PAGINATION = 'invalid_pagination';

/** Watches one listing's cursors; `next` throws when the listing would not end. */
export class CursorGuard {
  private readonly seen = new Map<string, number>();
  private pages = 0;

  constructor(
    private readonly what: string,
    private readonly maxPages: number = MAX_LIST_PAGES,
  ) {}

  /** A page was read and named `cursor` as the next one (undefined: the last page). */
  next(cursor: string | undefined): string | undefined {
    this.pages += 1;
    if (cursor === undefined) return undefined;
    const first = this.seen.get(cursor);
    if (first !== undefined) {
      throw this.fail(
        `the API gave cursor "${shown(cursor)}" again after page ${this.pages} (first after page ${first}): a listing that repeats a cursor never ends; stopped after ${this.pages} pages`,
      );
    }
    if (this.pages >= this.maxPages) {
      throw this.fail(
        `still more pages after ${this.pages} pages (the most a listing may read: ${this.maxPages}; last cursor "${shown(cursor)}"): a listing this long is taken for a loop; stopped`,
      );
    }
    this.seen.set(cursor, this.pages);
    return cursor;
  }

  private fail(why: string): SendmuxError {
    return new SendmuxError({
      status: 200,
      code: INVALID_PAGINATION,
      message: `${this.what}: ${why}`,
    });
  }
}

function shown(cursor: string): string {
  return cursor.length > 80 ? `${cursor.slice(0, 77)}...` : cursor;
}
