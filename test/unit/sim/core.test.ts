import { describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/sim/accounts.js';
import { newRequestId } from '../../../src/sim/envelope.js';
import { FaultController } from '../../../src/sim/faults.js';
import { IdempotencyStore, idempotencyScope } from '../../../src/sim/idempotency.js';
import { SIM_LOCKED_ID, simAccountId } from '../../../src/sim/index.js';
import {
  decodeCursor,
  encodeCursor,
  etagMatches,
  parseListQuery,
} from '../../../src/sim/pagination.js';
import { RateLimiter, UNLIMITED_REPORTED_LIMIT } from '../../../src/sim/rate-limit.js';

const res = { status: 200, headers: {}, body: '{}' };

describe('IdempotencyStore', () => {
  it('tracks in-flight, replay, mismatch, release and expiry', () => {
    const s = new IdempotencyStore(1_000);
    const b = s.begin('k', 'POST /a', 0);
    expect(b.kind).toBe('new');
    expect(s.begin('k', 'POST /a', 1).kind).toBe('in_flight');
    expect(s.begin('k', 'POST /b', 1).kind).toBe('in_flight');
    if (b.kind !== 'new') throw new Error('unreachable');
    s.complete(b.entry, res, 10);
    expect(s.begin('k', 'POST /a', 500)).toEqual({ kind: 'replay', response: res });
    expect(s.begin('k', 'POST /b', 500).kind).toBe('mismatch');
    expect(s.begin('k', 'POST /a', 1_010).kind).toBe('new');

    const r = s.begin('r', 'POST /a', 0);
    if (r.kind !== 'new') throw new Error('unreachable');
    s.release(r.entry);
    expect(s.begin('r', 'POST /a', 0).kind).toBe('new');
  });

  it('scopes by (team, endpoint, key)', () => {
    const s = new IdempotencyStore(1_000);
    const off = idempotencyScope('team_a', 'POST /providers/p1/deactivate', 'k');
    const on = idempotencyScope('team_a', 'POST /providers/p1/activate', 'k');
    const other = idempotencyScope('team_b', 'POST /providers/p1/deactivate', 'k');
    expect(new Set([off, on, other]).size).toBe(3);
    expect(s.begin(off, '', 0).kind).toBe('new');
    expect(s.begin(on, '', 0).kind).toBe('new');
    expect(s.begin(other, '', 0).kind).toBe('new');
    expect(s.begin(off, '', 0).kind).toBe('in_flight');
  });

  it('ignores completions after clear() and sweeps expired entries', () => {
    const s = new IdempotencyStore(10);
    const b = s.begin('k', 'x', 0);
    s.clear();
    if (b.kind !== 'new') throw new Error('unreachable');
    s.complete(b.entry, res, 0);
    expect(s.size).toBe(0);
    for (let i = 0; i < 600; i++) {
      const e = s.begin(`k${i}`, 'x', i);
      if (e.kind === 'new') s.complete(e.entry, res, i);
    }
    expect(s.size).toBeLessThan(300);
  });
});

describe('RateLimiter', () => {
  it('counts a fixed window per key and writes headers', () => {
    const l = new RateLimiter(2, 1_000);
    const h: Record<string, string> = {};
    expect(l.hit('a', 0, h).allowed).toBe(true);
    expect(l.hit('a', 100, h).allowed).toBe(true);
    const v = l.hit('a', 200, h);
    expect(v).toEqual({ allowed: false, retryAfterS: 1 });
    expect(h).toEqual({
      'x-ratelimit-limit': '2',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '1',
    });
    expect(l.hit('b', 200, {}).allowed).toBe(true);
    expect(l.hit('a', 1_000, {}).allowed).toBe(true);
  });

  it('never refuses when the limit is 0, but counts and reports a limit of 1000000', () => {
    const l = new RateLimiter(0, 1_000);
    const h: Record<string, string> = {};
    expect(l.hit('a', 0, h).allowed).toBe(true);
    expect(l.hit('a', 10, h).allowed).toBe(true);
    expect(h).toEqual({
      'x-ratelimit-limit': String(UNLIMITED_REPORTED_LIMIT),
      'x-ratelimit-remaining': String(UNLIMITED_REPORTED_LIMIT - 2),
      'x-ratelimit-reset': '1',
    });
    const p: Record<string, string> = {};
    l.preview(2_500, p);
    expect(p).toEqual({
      'x-ratelimit-limit': '1000000',
      'x-ratelimit-remaining': '1000000',
      'x-ratelimit-reset': '4',
    });
  });
});

describe('RateLimiter aligned to the clock', () => {
  it('counts [k * window, (k + 1) * window), whenever the first request came', () => {
    const l = new RateLimiter(2, 1_000, true);
    const h: Record<string, string> = {};
    expect(l.hit('a', 1_700, h).allowed).toBe(true);
    expect(h['x-ratelimit-reset']).toBe('2'); // the window ends at 2.000 s, not at 2.700 s
    expect(l.hit('a', 1_800, {}).allowed).toBe(true);
    expect(l.hit('a', 1_999, {})).toEqual({ allowed: false, retryAfterS: 1 });
    // A new window at 2.000 s (an unaligned one would still run until 2.700 s).
    expect(l.hit('a', 2_000, h).allowed).toBe(true);
    expect(h).toMatchObject({ 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '3' });
    const p: Record<string, string> = {};
    l.preview(2_500, p);
    expect(p['x-ratelimit-reset']).toBe('3');
  });
});

describe('FaultController', () => {
  it('uses scripted steps first, then one RNG draw per request', () => {
    const draws = [0.1, 0.3, 0.5, 0.7, 0.95];
    let calls = 0;
    const f = new FaultController(() => draws[calls++] ?? 0.99, {
      error500Rate: 0.2,
      error503Rate: 0.2,
      dropRate: 0.2,
      hangRate: 0.2,
    });
    f.script('x', [{ kind: 'delay', ms: 5 }]);
    expect(f.next('x')).toEqual({ kind: 'delay', ms: 5 });
    expect(calls).toBe(0);
    expect([f.next('x'), f.next('x'), f.next('x'), f.next('x'), f.next('x')]).toEqual([
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
      { kind: 'drop' },
      { kind: 'hang' },
      undefined,
    ]);
    expect(calls).toBe(5);
  });

  it('draws lost after hang, and validates the new steps', () => {
    const draws = [0.05, 0.15, 0.5];
    let calls = 0;
    const f = new FaultController(() => draws[calls++] ?? 0.99, {
      hangRate: 0.1,
      lostRate: 0.1,
    });
    expect([f.next('x'), f.next('x'), f.next('x')]).toEqual([
      { kind: 'hang' },
      { kind: 'lost', mode: 'drop' },
      undefined,
    ]);
    f.script('y', [
      { kind: 'status', status: 502, retryable: false, retryAfterS: 3 },
      { kind: 'lost', mode: 'hang' },
      { kind: 'mutate', set: { status: 'disabled', nested: { a: [1, null] } } },
      { kind: 'conflict' },
    ]);
    expect(f.next('y')).toEqual({ kind: 'status', status: 502, retryable: false, retryAfterS: 3 });
    expect(f.next('y')).toEqual({ kind: 'lost', mode: 'hang' });
    expect(f.next('y')).toMatchObject({ kind: 'mutate', set: { status: 'disabled' } });
    expect(f.next('y')).toEqual({ kind: 'conflict' });
    expect(() => {
      f.script('y', [{ kind: 'conflict', status: 409 } as unknown as { kind: 'conflict' }]);
    }).toThrow();
  });

  it('keeps current values for undefined keys and rejects bad patches', () => {
    const f = new FaultController(Math.random, { latencyMs: 10 });
    f.set({ latencyMs: undefined, hangRate: 0.5 });
    expect(f.current).toMatchObject({ latencyMs: 10, hangRate: 0.5, retryAfter503S: 1 });
    expect(() => {
      f.set({ hangRate: 1.5 });
    }).toThrow();
  });
});

describe('AccountStore.apply', () => {
  it('is a state set: the asked state again changes nothing (no updated_at bump)', () => {
    const store = new AccountStore(3);
    const id = simAccountId(1);
    const seeded = store.get(id);
    const on = store.apply(id, 'activate', Date.UTC(2026, 6, 1));
    expect(on).toEqual({ kind: 'ok', account: seeded, changed: false });
    const off = store.apply(id, 'deactivate', Date.UTC(2026, 6, 1));
    expect(off).toMatchObject({ kind: 'ok', changed: true });
    const again = store.apply(id, 'deactivate', Date.UTC(2026, 6, 2));
    expect(again.kind === 'ok' && again.account).toBe(off.kind === 'ok' && off.account);
    expect(again).toMatchObject({ changed: false });
    expect(store.get(id)?.item.updated_at).toBe('2026-07-01T00:00:00Z');
    expect(store.apply(SIM_LOCKED_ID, 'activate', 0)).toEqual({ kind: 'conflict' });
    expect(store.apply('dprov_nope', 'activate', 0)).toEqual({ kind: 'not_found' });
  });
});

describe('list query and ETag helpers', () => {
  const store = new AccountStore(10);

  it('round-trips cursors and rejects unknown ones', () => {
    expect(decodeCursor(encodeCursor(simAccountId(3)))).toBe(simAccountId(3));
    expect(decodeCursor('!!')).toBeUndefined();
    expect(parseListQuery({ cursor: encodeCursor('dprov_unknown') }, store)).toMatchObject({
      ok: false,
      param: 'cursor',
    });
    expect(parseListQuery({}, store)).toEqual({
      ok: true,
      query: { limit: 50, status: undefined, type: undefined, afterId: undefined },
    });
  });

  it('pages newest first after a cursor', () => {
    const page = store.page({ limit: 3, afterId: simAccountId(10) });
    expect(page.items.map((a) => a.item.id)).toEqual([9, 8, 7].map(simAccountId));
    expect(page.hasMore).toBe(true);
    const tail = store.page({ limit: 5, afterId: simAccountId(1) });
    expect(tail.items.map((a) => a.item.id)).toEqual([SIM_LOCKED_ID, 'dprov_sim_ses_shared']);
    expect(tail.hasMore).toBe(false);
  });

  it('matches weak ETags', () => {
    const tag = 'W/"0123456789abcdef"';
    expect(etagMatches(tag, tag)).toBe(true);
    expect(etagMatches('"0123456789abcdef"', tag)).toBe(true);
    expect(etagMatches('W/"x", W/"0123456789abcdef"', tag)).toBe(true);
    expect(etagMatches('*', tag)).toBe(true);
    expect(etagMatches('W/"fedcba9876543210"', tag)).toBe(false);
    expect(etagMatches(undefined, tag)).toBe(false);
  });

  it('mints request ids of the documented shape', () => {
    const ids = new Set(Array.from({ length: 2_000 }, newRequestId));
    expect(ids.size).toBe(2_000);
    for (const id of ids) expect(id).toMatch(/^req_[a-z0-9]{25}$/);
  });
});
