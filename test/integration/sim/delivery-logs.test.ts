/** GET /emails/logs over HTTP, and the two ways to add logs (addDeliveryLogs, POST /__sim/delivery-logs). */
import { describe, expect, it } from 'vitest';
import { simAccountId, startSimulator } from '../../../src/sim/index.js';
import type { DeliveryLogItem, Simulator } from '../../../src/sim/index.js';
import { envelope, get, http, useSimulator } from './helpers.js';
import type { CallResult } from './helpers.js';

const READ_KEY = 'smx_root_read_only';
const REQUEST_ID = /^req_[a-z0-9]{25}$/;

interface LogList {
  ok: true;
  data: DeliveryLogItem[];
  pagination: { has_more: boolean; next_cursor?: string };
  meta: { request_id: string };
}

let sim: Simulator;

useSimulator({ accounts: 10, readOnlyApiKey: READ_KEY }, (s) => (sim = s));

const list = (r: CallResult): LogList => r.json as LogList;
const ids = (r: CallResult): string[] => list(r).data.map((l) => l.id);

/** Every page of a query, following next_cursor. */
async function walk(query: string): Promise<{ items: DeliveryLogItem[]; pages: number }> {
  const items: DeliveryLogItem[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const c = cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const r = await get(sim, `/emails/logs?${query}${c}`);
    expect(r.status).toBe(200);
    pages++;
    items.push(...list(r).data);
    const { pagination } = list(r);
    if (!pagination.has_more) {
      expect('next_cursor' in pagination).toBe(false);
      return { items, pages };
    }
    expect(typeof pagination.next_cursor).toBe('string');
    cursor = pagination.next_cursor;
  }
}

describe('GET /emails/logs: auth, envelope, headers', () => {
  it('answers 401 without or with a wrong key; a read-only key may read', async () => {
    sim.addDeliveryLogs([{ provider_id: simAccountId(1), message_id: '<a@sim>' }]);
    for (const key of [null, 'smx_root_wrong']) {
      const r = await get(sim, '/emails/logs', { key });
      expect(r.status).toBe(401);
      expect(envelope(r).error).toMatchObject({
        code: 'authentication_required',
        retryable: false,
      });
      expect(r.headers['x-request-id']).toBe(envelope(r).meta.request_id);
      expect(r.json).not.toHaveProperty('data');
    }
    sim.setKeyRevoked(true);
    expect((await get(sim, '/emails/logs')).status).toBe(401);
    sim.setKeyRevoked(false);
    const ro = await get(sim, '/emails/logs', { key: READ_KEY });
    expect(ro.status).toBe(200);
    expect(list(ro).data).toHaveLength(1);
  });

  it('wraps the list in {ok,data,pagination,meta} with the API headers', async () => {
    const r = await get(sim, '/emails/logs');
    expect(r.status).toBe(200);
    expect(Object.keys(r.json as object).sort()).toEqual(['data', 'meta', 'ok', 'pagination']);
    expect(list(r)).toMatchObject({ ok: true, data: [], pagination: { has_more: false } });
    expect(list(r).meta.request_id).toMatch(REQUEST_ID);
    expect(r.headers['x-request-id']).toBe(list(r).meta.request_id);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['x-ratelimit-limit']).toBe('600');
  });

  it('spends the same per-key rate budget as the other routes, and is counted', async () => {
    const a = await get(sim, '/providers?limit=1');
    const b = await get(sim, '/emails/logs');
    const c = await get(sim, '/providers?limit=1');
    expect(Number(a.headers['x-ratelimit-remaining'])).toBe(599);
    expect(Number(b.headers['x-ratelimit-remaining'])).toBe(598);
    expect(Number(c.headers['x-ratelimit-remaining'])).toBe(597);
    expect(sim.stats().requests).toBe(3);
  });

  it('answers 429 rate_limit_exceeded once the key is over its limit', async () => {
    const limited = await startSimulator({ accounts: 1, rateLimit: 2 });
    try {
      expect((await get(limited, '/providers')).status).toBe(200);
      expect((await get(limited, '/emails/logs')).status).toBe(200);
      const r = await get(limited, '/emails/logs');
      expect(r.status).toBe(429);
      expect(envelope(r).error).toMatchObject({ code: 'rate_limit_exceeded', retryable: true });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.close();
    }
  });
});

describe('GET /emails/logs: search and filters', () => {
  it('finds a log by its message id (substring, any case) and not by fields it does not search', async () => {
    sim.addDeliveryLogs([
      {
        provider_id: simAccountId(1),
        message_id: '<0100018f-aaaa@email.amazonses.com>',
        status_reason: 'needle-in-reason',
        provider_name: 'needle-in-name',
      },
      { provider_id: simAccountId(2), message_id: '<0100018f-bbbb@email.amazonses.com>' },
      { provider_id: simAccountId(3), message_id: '<cccc@gmail.sim>' },
    ]);
    const exact = await get(
      sim,
      `/emails/logs?search=${encodeURIComponent('<0100018f-bbbb@email.amazonses.com>')}`,
    );
    expect(list(exact).data.map((l) => [l.message_id, l.provider_id])).toEqual([
      ['<0100018f-bbbb@email.amazonses.com>', simAccountId(2)],
    ]);
    const partial = await get(sim, '/emails/logs?search=0100018F');
    expect(list(partial).data.map((l) => l.provider_id)).toEqual([2, 1].map(simAccountId));
    expect(ids(await get(sim, '/emails/logs?search=nope'))).toEqual([]);
    expect(ids(await get(sim, '/emails/logs?search=needle'))).toEqual([]);
    // An empty search is no search.
    expect(ids(await get(sim, '/emails/logs?search='))).toHaveLength(3);
  });

  it('searches to_email, from_email, sent_from_email and subject too', async () => {
    const [to, from, sentFrom, subject] = sim.addDeliveryLogs([
      { provider_id: simAccountId(1), message_id: 'm1', to_email: 'alice@customer.example' },
      { provider_id: simAccountId(1), message_id: 'm2', from_email: 'news@brand.example' },
      { provider_id: simAccountId(1), message_id: 'm3', sent_from_email: 'relay@other.example' },
      { provider_id: simAccountId(1), message_id: 'm4', subject: 'Your Invoice 42' },
    ]);
    const one = async (q: string) => ids(await get(sim, `/emails/logs?search=${q}`));
    expect(await one('alice%40customer')).toEqual([to?.id]);
    expect(await one('brand.example')).toEqual([from?.id]);
    expect(await one('relay%40')).toEqual([sentFrom?.id]);
    expect(await one('invoice%2042')).toEqual([subject?.id]);
  });

  it('filters by provider_id and status, together and with search', async () => {
    sim.addDeliveryLogs([
      { provider_id: simAccountId(1), message_id: 'p1-a' },
      { provider_id: simAccountId(2), message_id: 'p2-a' },
      { provider_id: simAccountId(1), message_id: 'p1-b', status: 'failed' },
      { provider_id: simAccountId(2), message_id: 'p2-b', status: 'rejected' },
      { provider_id: simAccountId(1), message_id: 'p1-c' },
    ]);
    const messages = async (q: string) =>
      list(await get(sim, `/emails/logs?${q}`)).data.map((l) => l.message_id);
    expect(await messages(`provider_id=${simAccountId(1)}`)).toEqual(['p1-c', 'p1-b', 'p1-a']);
    expect(await messages(`provider_id=${simAccountId(2)}`)).toEqual(['p2-b', 'p2-a']);
    expect(await messages('provider_id=dprov_unknown')).toEqual([]);
    expect(await messages('status=sent')).toEqual(['p1-c', 'p2-a', 'p1-a']);
    expect(await messages(`status=failed&provider_id=${simAccountId(1)}`)).toEqual(['p1-b']);
    expect(await messages(`status=failed&provider_id=${simAccountId(2)}`)).toEqual([]);
    expect(await messages(`provider_id=${simAccountId(1)}&search=-a`)).toEqual(['p1-a']);
  });
});

describe('GET /emails/logs: pagination', () => {
  it('walks every log once, newest first, across cursor pages', async () => {
    const base = Date.UTC(2026, 5, 1);
    // Added out of order: the list sorts by created_at, the later addition first on a tie.
    sim.addDeliveryLogs(
      [3, 1, 6, 0, 5, 2, 4].map((m) => ({
        provider_id: simAccountId(1 + (m % 2)),
        message_id: `walk-${m}`,
        created_at: new Date(base + m * 60_000).toISOString(),
      })),
    );
    sim.addDeliveryLogs([
      {
        provider_id: simAccountId(1),
        message_id: 'walk-6-tie',
        created_at: new Date(base + 6 * 60_000).toISOString(),
      },
    ]);
    const { items, pages } = await walk('limit=3');
    expect(pages).toBe(3);
    expect(items.map((l) => l.message_id)).toEqual([
      'walk-6-tie',
      'walk-6',
      'walk-5',
      'walk-4',
      'walk-3',
      'walk-2',
      'walk-1',
      'walk-0',
    ]);
    const filtered = await walk(`limit=1&provider_id=${simAccountId(2)}`);
    expect(filtered.items.map((l) => l.message_id)).toEqual(['walk-5', 'walk-3', 'walk-1']);
    expect(filtered.pages).toBe(3);
  });

  it('defaults to 25 per page and allows up to 100', async () => {
    sim.addDeliveryLogs(
      Array.from({ length: 30 }, (_, i) => ({
        provider_id: simAccountId(1),
        message_id: `bulk-${i}`,
      })),
    );
    const first = await get(sim, '/emails/logs');
    expect(list(first).data).toHaveLength(25);
    expect(list(first).data[0]?.message_id).toBe('bulk-29');
    expect(list(first).pagination.has_more).toBe(true);
    const all = await walk('limit=100');
    expect(all.pages).toBe(1);
    expect(all.items).toHaveLength(30);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=', 'limit'],
    ['limit=2&limit=3', 'limit'],
    ['status=bounced', 'status'],
    ['status=sent&status=failed', 'status'],
    ['provider_id=', 'provider_id'],
    ['search=a&search=b', 'search'],
    ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['cursor=%%%', 'cursor'],
  ])('answers 400 invalid_parameter for %s naming %s', async (query, param) => {
    const r = await get(sim, `/emails/logs?${query}`);
    expect(r.status).toBe(400);
    expect(envelope(r).error).toMatchObject({ code: 'invalid_parameter', param, retryable: false });
    expect(r.headers['x-request-id']).toBe(envelope(r).meta.request_id);
    expect(r.headers['x-ratelimit-limit']).toBe('600');
  });

  it('refuses a providers cursor (cursors belong to their list)', async () => {
    sim.addDeliveryLogs([
      { provider_id: simAccountId(1), message_id: 'x1' },
      { provider_id: simAccountId(1), message_id: 'x2' },
    ]);
    const providers = await get(sim, '/providers?limit=1');
    const cursor = (providers.json as LogList).pagination.next_cursor ?? '';
    const r = await get(sim, `/emails/logs?cursor=${cursor}`);
    expect(r.status).toBe(400);
    expect(envelope(r).error?.param).toBe('cursor');
  });
});

describe('adding logs', () => {
  it('fills the defaults from the account and the clock', async () => {
    const [log] = sim.addDeliveryLogs([{ provider_id: simAccountId(1), message_id: '<d@sim>' }]);
    const account = sim.account(simAccountId(1));
    expect(log).toEqual({
      id: 'dlog_sim000001',
      provider_id: simAccountId(1),
      provider_name: account?.name,
      message_id: '<d@sim>',
      from_email: account?.from_email,
      sent_from_email: null,
      to_email: 'recipient@sim.example',
      subject: 'Simulated message',
      status: 'sent',
      status_reason: null,
      attempts: 1,
      sent_at: log?.created_at,
      size_bytes: 2048,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as string,
      recipient_count: 1,
      accepted_recipient_count: 1,
      rejected_recipient_count: 0,
    });
    expect(Math.abs(Date.parse(log?.created_at ?? '') - Date.now())).toBeLessThan(5_000);
    const [other] = sim.addDeliveryLogs([
      { provider_id: 'dprov_gone', message_id: 'm', status: 'rejected', to_email: null },
    ]);
    expect(other).toMatchObject({
      id: 'dlog_sim000002',
      provider_name: null,
      from_email: null,
      to_email: null,
      sent_at: null,
      accepted_recipient_count: 0,
      rejected_recipient_count: 1,
    });
    expect(list(await get(sim, '/emails/logs')).data).toEqual([other, log]);
  });

  it('refuses an invalid item or a taken id, adding nothing', async () => {
    sim.addDeliveryLogs([{ id: 'dlog_fixed', provider_id: simAccountId(1), message_id: 'm' }]);
    const bad: unknown[] = [
      [{ provider_id: simAccountId(1), message_id: 'ok' }, { provider_id: simAccountId(1) }],
      [{ provider_id: simAccountId(1), message_id: 'm', status: 'bounced' }],
      [{ provider_id: simAccountId(1), message_id: 'm', recipient_count: 51 }],
      [{ provider_id: simAccountId(1), message_id: 'm', created_at: 'yesterday' }],
      [{ provider_id: simAccountId(1), message_id: 'm', unknown: 1 }],
      [{ id: 'dlog_fixed', provider_id: simAccountId(1), message_id: 'm' }],
      [
        { id: 'dlog_twice', provider_id: simAccountId(1), message_id: 'm' },
        { id: 'dlog_twice', provider_id: simAccountId(1), message_id: 'm' },
      ],
    ];
    for (const items of bad) {
      expect(() => sim.addDeliveryLogs(items as never), JSON.stringify(items)).toThrow(RangeError);
    }
    expect(ids(await get(sim, '/emails/logs'))).toEqual(['dlog_fixed']);
  });

  it('POST /__sim/delivery-logs adds logs for another process; bad bodies are 400', async () => {
    const admin = (body: string) =>
      http('POST', `${sim.origin}/__sim/delivery-logs`, {
        headers: { 'content-type': 'application/json' },
        body,
      });
    const r = await admin(
      JSON.stringify({
        items: [
          { provider_id: simAccountId(2), message_id: '<via-admin@sim>', subject: 'Hello' },
          { provider_id: simAccountId(3), message_id: '<second@sim>', status: 'pending' },
        ],
      }),
    );
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const added = (r.json as { ok: boolean; data: DeliveryLogItem[] }).data;
    expect(added.map((l) => [l.id, l.message_id, l.status])).toEqual([
      ['dlog_sim000001', '<via-admin@sim>', 'sent'],
      ['dlog_sim000002', '<second@sim>', 'pending'],
    ]);
    const found = await get(sim, '/emails/logs?search=via-admin');
    expect(list(found).data).toEqual([added[0]]);
    for (const body of [
      '{not json',
      '[]',
      '{}',
      '{"items":[{"message_id":"m"}]}',
      '{"items":[],"extra":1}',
      '{"items":[{"provider_id":"p","message_id":"m","attempts":"1"}]}',
      JSON.stringify({ items: [{ id: 'dlog_sim000001', provider_id: 'p', message_id: 'm' }] }),
    ]) {
      const bad = await admin(body);
      expect(bad.status, body).toBe(400);
      expect(envelope(bad).error?.code).toBe('invalid_parameter');
    }
    expect(ids(await get(sim, '/emails/logs'))).toHaveLength(2);
    expect(sim.stats().requests).toBe(2);
  });

  it('reset (also POST /__sim/reset) clears the logs and restarts the ids', async () => {
    sim.addDeliveryLogs([{ provider_id: simAccountId(1), message_id: 'r1' }]);
    sim.reset();
    expect(ids(await get(sim, '/emails/logs'))).toEqual([]);
    sim.addDeliveryLogs([{ provider_id: simAccountId(1), message_id: 'r2' }]);
    expect((await http('POST', `${sim.origin}/__sim/reset`)).status).toBe(200);
    expect(ids(await get(sim, '/emails/logs'))).toEqual([]);
    const [again] = sim.addDeliveryLogs([{ provider_id: simAccountId(1), message_id: 'r3' }]);
    expect(again?.id).toBe('dlog_sim000001');
  });
});
