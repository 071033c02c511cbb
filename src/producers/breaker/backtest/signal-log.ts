/**
 * The history a backtest replays, read once and replayed once per rule set: signals in columns
 * (typed arrays that double as they fill, one id string per signal), and what could not be
 * read, by reason, with the first few line numbers. Memory grows with the history: 25 bytes of
 * columns per signal plus its id string, and the replay's dedupe set of ids (the bench's 2
 * million signals peak at about 670 MB RSS).
 */
import type { KindIndex } from './evaluate.js';

/** The first line numbers kept per skip reason. */
const LINES_KEPT = 5;

export interface SkipReason {
  reason: string;
  count: number;
  /** The first few line numbers (1-based), or entry ids for Redis and the logs. */
  where: string[];
}

export class SignalLog {
  /** Account ids by index. */
  readonly accounts: string[] = [];
  private readonly accountIndex = new Map<string, number>();
  account = new Int32Array(1024);
  kind = new Uint8Array(1024);
  occurred = new Float64Array(1024);
  /** When the breaker sees it ("now" of the live step): the file's occurred_at, Redis's arrival. */
  seen = new Float64Array(1024);
  readonly ids: string[] = [];
  size = 0;
  private inOrder = true;
  private readonly skips = new Map<string, SkipReason>();
  skipped = 0;

  push(accountId: string, kind: KindIndex, id: string, occurredMs: number, seenMs: number): void {
    let a = this.accountIndex.get(accountId);
    if (a === undefined) {
      a = this.accounts.length;
      this.accounts.push(accountId);
      this.accountIndex.set(accountId, a);
    }
    if (this.size === this.account.length) this.grow();
    const i = this.size++;
    if (i > 0 && seenMs < (this.seen[i - 1] ?? 0)) this.inOrder = false;
    this.account[i] = a;
    this.kind[i] = kind;
    this.occurred[i] = occurredMs;
    this.seen[i] = seenMs;
    this.ids.push(id);
  }

  /** Count a line or entry that is not a signal (`where`: its line number or id). */
  skip(reason: string, where: string | number): void {
    this.skipped++;
    let s = this.skips.get(reason);
    if (s === undefined) {
      s = { reason, count: 0, where: [] };
      this.skips.set(reason, s);
    }
    s.count++;
    if (s.where.length < LINES_KEPT) s.where.push(String(where));
  }

  skipReasons(): SkipReason[] {
    return [...this.skips.values()].sort((a, b) => b.count - a.count);
  }

  /** The replay order: by when the breaker sees each signal, ties in reading order. */
  order(): Uint32Array {
    const order = new Uint32Array(this.size);
    for (let i = 0; i < this.size; i++) order[i] = i;
    if (this.inOrder) return order;
    const seen = this.seen;
    // Ties keep reading order.
    return order.sort((a, b) => (seen[a] ?? 0) - (seen[b] ?? 0) || a - b);
  }

  /** The first and last times the breaker sees a signal (ms), or undefined when empty. */
  span(): { from: number; to: number } | undefined {
    if (this.size === 0) return undefined;
    let from = Infinity;
    let to = -Infinity;
    for (let i = 0; i < this.size; i++) {
      const t = this.seen[i] ?? 0;
      if (t < from) from = t;
      if (t > to) to = t;
    }
    return { from, to };
  }

  private grow(): void {
    const n = this.account.length * 2;
    const account = new Int32Array(n);
    account.set(this.account);
    this.account = account;
    const kind = new Uint8Array(n);
    kind.set(this.kind);
    this.kind = kind;
    const occurred = new Float64Array(n);
    occurred.set(this.occurred);
    this.occurred = occurred;
    const seen = new Float64Array(n);
    seen.set(this.seen);
    this.seen = seen;
  }
}
