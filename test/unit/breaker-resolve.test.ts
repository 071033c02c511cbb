/** The account resolution chain and the webhook-to-signal mapping (pure, no I/O). */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  createResolver,
  parseSenderMap,
  senderAddress,
} from '../../src/producers/breaker/resolve.js';
import { parseWebhook, signalOf } from '../../src/producers/breaker/webhook-events.js';

const accounts = [
  { id: 'dprov_a', from_email: 'News <news@shop.example>' },
  { id: 'dprov_b', from_email: 'billing@shop.example' },
  { id: 'dprov_c', from_email: 'twice@shop.example' },
  { id: 'dprov_d', from_email: 'TWICE@shop.example' },
  { id: 'dprov_e', from_email: null },
];

// eslint-disable-next-line @typescript-eslint/require-await -- an async view of a list
async function* list() {
  yield* accounts;
}

describe('the resolution chain', () => {
  it('takes the mapping first (address, then domain), then from_email, then the delivery log', async () => {
    const searched: string[] = [];
    const r = createResolver({
      senderMap: parseSenderMap(
        '{"billing@shop.example": "dprov_map1", "other.example": "dprov_map2"}',
      ),
      listAccounts: list,
      searchLogs: (id) => {
        searched.push(id);
        return Promise.resolve(
          id === 'm-1' ? [{ message_id: 'm-1', provider_id: 'dprov_log' }] : [],
        );
      },
    });
    await r.start();
    try {
      expect(await r.resolve({ sender: 'billing@shop.example' })).toEqual({
        providerId: 'dprov_map1',
        via: 'mapping',
      });
      expect(await r.resolve({ sender: 'x@Other.Example' })).toEqual({
        providerId: 'dprov_map2',
        via: 'mapping',
      });
      expect(await r.resolve({ sender: 'Shop <NEWS@shop.example>', messageId: 'm-1' })).toEqual({
        providerId: 'dprov_a',
        via: 'from_email',
      });
      // An address two accounts share says nothing: on to the log.
      expect(await r.resolve({ sender: 'twice@shop.example', messageId: 'm-1' })).toEqual({
        providerId: 'dprov_log',
        via: 'delivery_log',
      });
      expect(
        await r.resolve({ sender: 'nobody@nowhere.example', messageId: 'm-2' }),
      ).toBeUndefined();
      expect(await r.resolve({})).toBeUndefined();
      // Both log answers are remembered: a hit, and a miss for a while.
      await r.resolve({ messageId: 'm-1' });
      await r.resolve({ messageId: 'm-2' });
      expect(searched).toEqual(['m-1', 'm-2']);
    } finally {
      r.close();
    }
  });

  it('forgets a miss after its time, and the oldest message ids past the cache size', async () => {
    let t = 0;
    let calls = 0;
    const r = createResolver({
      senderMap: new Map(),
      searchLogs: (id) => {
        calls++;
        return Promise.resolve([
          { message_id: id, provider_id: id.startsWith('hit') ? 'dprov_h' : null },
        ]);
      },
      cacheSize: 2,
      missTtlMs: 1000,
      now: () => t,
    });
    await r.resolve({ messageId: 'miss' });
    await r.resolve({ messageId: 'miss' });
    expect(calls).toBe(1);
    t = 1001;
    await r.resolve({ messageId: 'miss' });
    expect(calls).toBe(2);
    await r.resolve({ messageId: 'hit-1' });
    await r.resolve({ messageId: 'hit-2' }); // the cache holds 2: "miss" goes
    await r.resolve({ messageId: 'hit-1' });
    expect(calls).toBe(4);
  });

  it('leaves a message unresolved when the log lookup fails', async () => {
    const r = createResolver({
      senderMap: new Map(),
      searchLogs: () => Promise.reject(new Error('503')),
    });
    expect(await r.resolve({ messageId: 'm' })).toBeUndefined();
  });

  it('refuses a bad BREAKER_SENDER_MAP naming the entry and the rule', () => {
    expect(() => parseSenderMap('nope')).toThrow(ConfigError);
    expect(() => parseSenderMap('{"a@b.c": "prov_1"}')).toThrow(
      /BREAKER_SENDER_MAP: "a@b.c": "prov_1" must be a sending account id/,
    );
    expect(senderAddress('Name <A@B.c>')).toBe('a@b.c');
    expect(senderAddress('not an address')).toBeUndefined();
  });
});

describe('webhook events as signals', () => {
  const body = (type: string, data: object = {}) =>
    JSON.stringify({
      id: 'evt_1',
      type,
      team_public_id: 'team_1',
      occurred_at: '2026-11-28T10:00:00Z',
      data: { message_id: '<m@x>', sender: 'a@b.c', ...data },
    });

  it('maps the four signal types, and a hard bounce keeps its type', () => {
    const bounced = parseWebhook(
      body('message.bounced', { bounce_type: 'Permanent', bounce_subtype: 'General' }),
    );
    expect(bounced).toMatchObject({
      ok: true,
      outcome: 'bounced',
      ref: { sender: 'a@b.c', messageId: '<m@x>' },
    });
    if (!bounced.ok || !bounced.outcome) return;
    expect(signalOf(bounced.event, bounced.outcome, 'dprov_x')).toEqual({
      id: 'evt_1',
      provider_id: 'dprov_x',
      outcome: 'bounced',
      occurred_at: '2026-11-28T10:00:00Z',
      bounce_type: 'Permanent',
    });
    expect(parseWebhook(body('message.delivered'))).toMatchObject({
      ok: true,
      outcome: 'delivered',
    });
    expect(parseWebhook(body('message.complained'))).toMatchObject({
      ok: true,
      outcome: 'complained',
    });
    expect(parseWebhook(body('message.rejected'))).toMatchObject({ ok: true, outcome: 'rejected' });
    expect(parseWebhook(body('message.delivery_delayed'))).toMatchObject({
      ok: true,
      outcome: undefined,
    });
  });

  it('says what is wrong with a body it cannot read', () => {
    expect(parseWebhook('{')).toEqual({ ok: false, problem: 'not JSON' });
    expect(
      parseWebhook(JSON.stringify({ type: 'message.bounced', occurred_at: 'x', data: {} })),
    ).toMatchObject({ ok: false, problem: expect.stringContaining('id') as string });
  });
});
