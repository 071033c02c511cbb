/**
 * Idempotency-Key cache. As the API documents, an entry lives per (team, endpoint, key)
 * (see {@link idempotencyScope}): the same key on another endpoint (another action, another
 * account) is an independent entry. The fingerprint is the request body: a key reused with a
 * different body is a mismatch (activate/deactivate have no body, so for them it never
 * differs). A key whose first request is still in flight is a conflict; a completed key
 * within the TTL replays the original response verbatim (status, headers, body).
 */
import type { SimResponse } from './envelope.js';

/** Handle of an in-flight entry, returned by {@link IdempotencyStore.begin}. */
export interface IdempotencyEntry {
  readonly scope: string;
  readonly fingerprint: string;
  response: SimResponse | undefined;
  expiresAt: number;
}

export type BeginResult =
  | { kind: 'new'; entry: IdempotencyEntry }
  | { kind: 'in_flight' }
  | { kind: 'mismatch' }
  | { kind: 'replay'; response: SimResponse };

const SWEEP_EVERY = 256;

/** The cache scope of a key: team, endpoint (method and path) and the key itself. */
export function idempotencyScope(teamId: string, endpoint: string, key: string): string {
  return `${teamId}\n${endpoint}\n${key}`;
}

export class IdempotencyStore {
  private entries = new Map<string, IdempotencyEntry>();
  private completions = 0;

  constructor(private readonly ttlMs: number) {}

  get size(): number {
    return this.entries.size;
  }

  begin(scope: string, fingerprint: string, nowMs: number): BeginResult {
    const found = this.entries.get(scope);
    if (found !== undefined) {
      if (found.response === undefined) return { kind: 'in_flight' };
      if (found.expiresAt > nowMs) {
        return found.fingerprint === fingerprint
          ? { kind: 'replay', response: found.response }
          : { kind: 'mismatch' };
      }
      this.entries.delete(scope);
    }
    const entry: IdempotencyEntry = {
      scope,
      fingerprint,
      response: undefined,
      expiresAt: Infinity,
    };
    this.entries.set(scope, entry);
    return { kind: 'new', entry };
  }

  /** Stores the outcome for replay. No-op if the entry was released or the store cleared meanwhile. */
  complete(entry: IdempotencyEntry, response: SimResponse, nowMs: number): void {
    if (this.entries.get(entry.scope) !== entry || entry.response !== undefined) return;
    entry.response = response;
    entry.expiresAt = nowMs + this.ttlMs;
    if (++this.completions % SWEEP_EVERY === 0) this.sweep(nowMs);
  }

  /** Drops an in-flight entry without caching (faults). */
  release(entry: IdempotencyEntry): void {
    if (this.entries.get(entry.scope) === entry && entry.response === undefined)
      this.entries.delete(entry.scope);
  }

  clear(): void {
    this.entries = new Map();
  }

  /**
   * Removes expired entries from the front of the map (insertion order is close to expiry
   * order, the TTL being constant), stopping at the first live completed entry: amortised O(1).
   */
  private sweep(nowMs: number): void {
    for (const [scope, e] of this.entries) {
      if (e.response === undefined) continue;
      if (e.expiresAt > nowMs) return;
      this.entries.delete(scope);
    }
  }
}
