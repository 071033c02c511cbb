/**
 * GET /v1/accounts searched and paged on the server (issue 20 §4), at 100,000 recorded accounts:
 * the statuses and their index written in one pipeline on the test's prefix (three accounts
 * per score, so ties are walked too), then a search finds the one account whose id contains
 * the text (its request time printed, not asserted), paging visits every account exactly once,
 * newest first, and bad input is a 400 naming the field. Real Redis; the server in-process.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { keysFor } from '../../src/store/keys.js';
import { encodeAccountPart, S } from '../../src/store/status-record.js';
import { pageStatuses } from '../../src/store/status-search.js';
import type { AccountView } from '../../src/wire/index.js';
import { dropPrefix, testConfig, testRedis } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();

const N = 100_000;
const ADMIN = 'admin-token-accounts-search-0123';
const auth = { authorization: `Bearer ${ADMIN}` };
const config = { ...testConfig(), adminToken: ADMIN };
const keys = keysFor(config.prefix);
const redis = testRedis(config.prefix);
const id = (i: number) => `dprov_srch${String(i).padStart(6, '0')}`;
const T0 = Date.parse('2026-12-01T00:00:00Z');

let app: HttpServer | undefined;
afterAll(async () => {
  await app?.close();
  await redis.quit();
  await dropPrefix(config.prefix);
});

async function seed(): Promise<void> {
  const part = encodeAccountPart(
    { status: 'active', is_active: true, status_reason: null, updated_at: null },
    null,
  );
  for (let from = 0; from < N; from += 10_000) {
    const pipeline = redis.pipeline();
    for (let i = from; i < from + 10_000; i++) {
      pipeline.hset(keys.status(id(i)), S.account, part);
      pipeline.zadd(keys.statusIndex, T0 + Math.floor(i / 3), id(i));
    }
    await pipeline.exec();
  }
}

describe('GET /v1/accounts, searched and paged at 100,000 accounts', () => {
  it('finds an account by part of its id and pages through every one once', async () => {
    await seed();
    app = await buildServer({
      config,
      redis,
      logger: createLogger({ level: 'silent', pretty: false }),
    });
    const server = app;
    const get = async (url: string) => {
      const res = await server.inject({ method: 'GET', url, headers: auth });
      return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
    };

    // A search: the one account whose id contains the text, found in one request.
    const started = performance.now();
    const found = await get('/v1/accounts?q=h012345');
    console.log(`search of ${N} accounts: ${(performance.now() - started).toFixed(0)} ms`);
    expect(found.status).toBe(200);
    expect((found.body.accounts as AccountView[]).map((a) => a.account_id)).toEqual([id(12345)]);
    expect(found.body.next_cursor).toBeNull();
    // A text many ids contain, a page at a time: the newest first, then the next page.
    const first = await get('/v1/accounts?q=srch0999&limit=60');
    const firstIds = (first.body.accounts as AccountView[]).map((a) => a.account_id);
    expect(firstIds).toHaveLength(60);
    expect(firstIds[0]).toBe(id(99_999));
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const cursor = encodeURIComponent(String(first.body.next_cursor));
    const second = await get(`/v1/accounts?q=srch0999&limit=60&cursor=${cursor}`);
    const secondIds = (second.body.accounts as AccountView[]).map((a) => a.account_id);
    expect(secondIds).toHaveLength(40);
    expect(new Set([...firstIds, ...secondIds]).size).toBe(100);
    expect([...firstIds, ...secondIds].every((a) => a.includes('srch0999'))).toBe(true);

    // Paging without a text visits every account once, newest first (ties included).
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const page = await pageStatuses(redis, keys, { cursor: next, limit: 5_000 });
      seen.push(...page.ids);
      next = page.nextCursor;
    } while (next !== null);
    expect(seen).toHaveLength(N);
    expect(new Set(seen).size).toBe(N);
    expect(seen[0]).toBe(id(N - 1));
    expect(seen[N - 1]).toBe(id(0));
    // A walk cut short by its budget answers with a cursor, and goes on from it.
    const short = await pageStatuses(redis, keys, { q: 'h00001', limit: 10, budget: 1_000 });
    expect(short.ids).toEqual([]);
    expect(short.nextCursor).toEqual(expect.any(String));
    const rest = await pageStatuses(redis, keys, {
      q: 'h00001',
      limit: 10,
      cursor: short.nextCursor,
    });
    expect(rest.ids).toEqual(Array.from({ length: 10 }, (_, i) => id(19 - i)));

    // Bad input: 400 naming the field and the rule.
    for (const [url, field] of [
      ['/v1/accounts?q=a%20b', 'query.q'],
      ['/v1/accounts?cursor=nope', 'query.cursor'],
      ['/v1/accounts?limit=0', 'query.limit'],
    ] as const) {
      const bad = await get(url);
      expect(bad.status, url).toBe(400);
      expect(bad.body.error).toMatchObject({ code: 'invalid_input' });
      expect((bad.body.error as { message: string }).message).toContain(field);
    }
  });
});
