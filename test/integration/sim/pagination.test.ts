import { describe, expect, it } from 'vitest';
import { SIM_LOCKED_ID, SIM_SHARED_SES_ID, simAccountId } from '../../../src/sim/index.js';
import type { ProviderItem, Simulator } from '../../../src/sim/index.js';
import { envelope, get, post, useSimulator } from './helpers.js';

interface ListBody {
  ok: true;
  data: ProviderItem[];
  pagination: { has_more: boolean; next_cursor?: string };
  meta: { request_id: string };
}

let sim: Simulator;

useSimulator({ accounts: 50 }, (s) => (sim = s));

async function walk(query: string): Promise<{ items: ProviderItem[]; pages: number }> {
  const items: ProviderItem[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const sep = query === '' ? '' : '&';
    const r = await get(
      sim,
      `/providers?${query}${cursor === undefined ? '' : `${sep}cursor=${encodeURIComponent(cursor)}`}`,
    );
    expect(r.status).toBe(200);
    const body = r.json as ListBody;
    pages++;
    items.push(...body.data);
    if (!body.pagination.has_more) {
      expect('next_cursor' in body.pagination).toBe(false);
      return { items, pages };
    }
    expect(typeof body.pagination.next_cursor).toBe('string');
    cursor = body.pagination.next_cursor;
  }
}

describe('GET /providers', () => {
  it('walks all accounts exactly once, newest first, with limit 7', async () => {
    const { items, pages } = await walk('limit=7');
    expect(items).toHaveLength(52);
    expect(pages).toBe(8);
    expect(new Set(items.map((i) => i.id)).size).toBe(52);
    expect(items[0]?.id).toBe(simAccountId(50));
    expect(items.slice(-2).map((i) => i.id)).toEqual([SIM_LOCKED_ID, SIM_SHARED_SES_ID]);
    const created = items.map((i) => i.created_at);
    expect(created).toEqual([...created].sort().reverse());
  });

  it('defaults to 50 per page and includes the shared account', async () => {
    const r = await get(sim, '/providers');
    const body = r.json as ListBody;
    expect(body.data).toHaveLength(50);
    expect(body.pagination.has_more).toBe(true);
    const all = await walk('limit=100');
    expect(all.pages).toBe(1);
    expect(all.items.find((i) => i.id === SIM_SHARED_SES_ID)?.is_shared).toBe(true);
  });

  it('filters by type and status, also across pages', async () => {
    const gmail = await walk('type=gmail_api&limit=2');
    expect(gmail.items.map((i) => i.id).sort()).toEqual(
      [7, 14, 21, 28, 35, 42, 49].map(simAccountId),
    );
    const outlook = await walk('type=outlook_api');
    expect(outlook.items).toHaveLength(4);
    expect(outlook.items.every((i) => i.type === 'outlook_api')).toBe(true);

    expect((await walk('status=inactive')).items).toHaveLength(0);
    for (const i of [3, 9, 12]) await post(sim, `/providers/${simAccountId(i)}/deactivate`);
    const inactive = await walk('status=inactive&limit=1');
    expect(inactive.items.map((i) => i.id)).toEqual([12, 9, 3].map(simAccountId));
    expect(inactive.pages).toBe(3);
    expect(
      (await walk('status=active&type=smtp')).items.every(
        (i) => i.status === 'active' && i.type === 'smtp',
      ),
    ).toBe(true);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=', 'limit'],
    ['limit=2&limit=3', 'limit'],
    ['status=paused', 'status'],
    ['type=sendgrid', 'type'],
    ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['cursor=%%%', 'cursor'],
  ])('answers 400 invalid_parameter for %s naming %s', async (query, param) => {
    const r = await get(sim, `/providers?${query}`);
    expect(r.status).toBe(400);
    expect(envelope(r).error).toMatchObject({ code: 'invalid_parameter', param, retryable: false });
    expect(r.headers['x-request-id']).toBe(envelope(r).meta.request_id);
  });
});
