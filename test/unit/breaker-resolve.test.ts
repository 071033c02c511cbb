/**
 * The account resolution chain (the sender parsed as RFC 5322, the map's exact addresses, a
 * from_email of one account, the delivery log for shared or unknown addresses, a domain entry
 * last; several candidates left are ambiguous) and the webhook-to-signal mapping (pure, no I/O).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  createResolver,
  parseSenderMap,
  senderAddress,
  type Resolver,
} from '../../src/producers/breaker/resolve.js';
import { parseWebhook, signalOf } from '../../src/producers/breaker/webhook-events.js';

const accounts = [
  { id: 'dprov_a', from_email: 'News <news@shop.example>' },
  { id: 'dprov_b', from_email: 'billing@shop.example' },
  { id: 'dprov_c', from_email: 'twice@shop.example' },
  { id: 'dprov_d', from_email: 'TWICE@shop.example' },
  { id: 'dprov_e', from_email: null },
  { id: 'dprov_3', from_email: 'sender3@example.com' },
  { id: 'dprov_4', from_email: 'Sender Four <sender4@example.com>' },
  { id: 'dprov_f', from_email: 'not an address' },
];

// eslint-disable-next-line @typescript-eslint/require-await -- an async view of a list
async function* list() {
  yield* accounts;
}

type LogItems = { message_id: string | null; provider_id: string | null }[];

/** A resolver over `accounts`, the given map and delivery logs; `searched` lists the lookups. */
async function resolverWith(
  map: Record<string, string>,
  logs: Record<string, LogItems | Error> = {},
) {
  const searched: string[] = [];
  const r = createResolver({
    senderMap: parseSenderMap(JSON.stringify(map)),
    listAccounts: list,
    searchLogs: (id) => {
      searched.push(id);
      const answer = logs[id] ?? [];
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  });
  await r.start();
  return { r, searched };
}

let open: Resolver | undefined;
afterEach(() => {
  open?.close();
  open = undefined;
});
async function resolver(map: Record<string, string>, logs: Record<string, LogItems | Error> = {}) {
  const made = await resolverWith(map, logs);
  open = made.r;
  return made;
}

const BRACKETED = '"Help <sender3@example.com>" <sender4@example.com>';

describe('the sender address (RFC 5322, email-addresses)', () => {
  it('is the address of the one mailbox, not what a quoted display name holds', () => {
    expect(senderAddress(BRACKETED)).toBe('sender4@example.com');
    expect(senderAddress('"Help <a@x.example>, <b@x.example>" <c@x.example>')).toBe('c@x.example');
    expect(senderAddress('Name <A@B.c>')).toBe('a@b.c');
    expect(senderAddress(' plain@Shop.Example ')).toBe('plain@shop.example');
    expect(senderAddress('<bare@shop.example>')).toBe('bare@shop.example');
    expect(senderAddress('Name (a comment) <c@shop.example>')).toBe('c@shop.example');
    expect(senderAddress('"quoted local"@shop.example')).toBe('quoted local@shop.example');
    expect(senderAddress('José <josé@exämple.com>')).toBe('josé@exämple.com');
  });

  it('is nothing for what the parser refuses, a group, or several mailboxes', () => {
    for (const sender of [
      undefined,
      null,
      '',
      'not an address',
      'Help <sender3@example.com> <sender4@example.com>',
      'Name <a@b.c',
      'a@b@c.d',
      'a@b.c, d@e.f',
      'Team: a@b.c;',
      'Team: a@b.c, d@e.f;',
    ]) {
      expect(senderAddress(sender), String(sender)).toBeUndefined();
    }
  });
});

describe('the resolution chain', () => {
  it('counts a bracketed display name for the account of the real address', async () => {
    const { r } = await resolver({});
    expect(await r.resolve({ sender: BRACKETED })).toEqual({
      result: 'resolved',
      accountId: 'dprov_4',
      via: 'from_email',
    });
    // The same with the addresses in the map.
    const { r: mapped } = await resolverWith({
      'sender3@example.com': 'dprov_m3',
      'sender4@example.com': 'dprov_m4',
    });
    try {
      expect(await mapped.resolve({ sender: BRACKETED })).toEqual({
        result: 'resolved',
        accountId: 'dprov_m4',
        via: 'mapping',
      });
    } finally {
      mapped.close();
    }
  });

  it('takes an exact address of the map first, over any from_email, shared or not', async () => {
    const { r, searched } = await resolver({
      'billing@shop.example': 'dprov_map1',
      'Twice <TWICE@shop.example>': 'dprov_map2',
    });
    expect(await r.resolve({ sender: 'Billing <billing@shop.example>' })).toEqual({
      result: 'resolved',
      accountId: 'dprov_map1',
      via: 'mapping',
    });
    expect(await r.resolve({ sender: 'twice@shop.example', messageId: 'm-1' })).toEqual({
      result: 'resolved',
      accountId: 'dprov_map2',
      via: 'mapping',
    });
    expect(searched).toEqual([]);
  });

  it('takes the from_email of exactly one account without asking the delivery log', async () => {
    const { r, searched } = await resolver(
      {},
      { 'm-1': [{ message_id: 'm-1', provider_id: 'x' }] },
    );
    expect(await r.resolve({ sender: 'Shop <NEWS@shop.example>', messageId: 'm-1' })).toEqual({
      result: 'resolved',
      accountId: 'dprov_a',
      via: 'from_email',
    });
    expect(searched).toEqual([]);
  });

  it('never lets a domain entry beat an exact from_email', async () => {
    const { r } = await resolver(
      { 'example.com': 'dprov_dom', 'shop.example': 'dprov_shop' },
      { 'm-known': [{ message_id: 'm-known', provider_id: 'dprov_logged' }] },
    );
    // sender3@example.com is dprov_3's from_email: the domain entry does not get it.
    expect(await r.resolve({ sender: 'sender3@example.com' })).toEqual({
      result: 'resolved',
      accountId: 'dprov_3',
      via: 'from_email',
    });
    // A shared from_email the log does not settle stays ambiguous, never the domain's.
    expect(await r.resolve({ sender: 'twice@shop.example', messageId: 'm-silent' })).toEqual({
      result: 'ambiguous',
      candidates: ['dprov_c', 'dprov_d'],
      via: 'from_email',
    });
    // An address no account has: the delivery log first, then the domain entry.
    expect(await r.resolve({ sender: 'other@example.com', messageId: 'm-known' })).toEqual({
      result: 'resolved',
      accountId: 'dprov_logged',
      via: 'delivery_log',
    });
    expect(await r.resolve({ sender: 'Other <other@EXAMPLE.com>', messageId: 'm-x' })).toEqual({
      result: 'resolved',
      accountId: 'dprov_dom',
      via: 'domain_mapping',
    });
    expect(await r.resolve({ sender: 'nobody@nowhere.example' })).toEqual({
      result: 'unresolved',
    });
  });

  it('settles a shared from_email by the delivery log, which names the account that sent', async () => {
    const { r, searched } = await resolver(
      {},
      {
        '<m-1@shop.example>': [
          // The search matches substrings: another message's log is not this one's.
          { message_id: '<m-1@shop.example>.other', provider_id: 'dprov_c' },
          { message_id: '<m-1@shop.example>', provider_id: 'dprov_d' },
        ],
      },
    );
    expect(
      await r.resolve({ sender: 'twice@shop.example', messageId: '<m-1@shop.example>' }),
    ).toEqual({ result: 'resolved', accountId: 'dprov_d', via: 'delivery_log' });
    expect(searched).toEqual(['<m-1@shop.example>']);
  });

  it('leaves a shared from_email the log does not settle ambiguous, with its candidates', async () => {
    const { r } = await resolver(
      {},
      {
        'm-two': [
          { message_id: 'm-two', provider_id: 'dprov_d' },
          { message_id: 'm-two', provider_id: 'dprov_c' },
          { message_id: 'm-two', provider_id: 'dprov_d' },
        ],
      },
    );
    const ambiguous = { result: 'ambiguous', candidates: ['dprov_c', 'dprov_d'] };
    // No message id: nothing to ask.
    expect(await r.resolve({ sender: 'twice@shop.example' })).toEqual({
      ...ambiguous,
      via: 'from_email',
    });
    // The log knows nothing of it.
    expect(await r.resolve({ sender: 'twice@shop.example', messageId: 'm-none' })).toEqual({
      ...ambiguous,
      via: 'from_email',
    });
    // The log names several accounts: ambiguous too, by the log.
    expect(await r.resolve({ sender: 'twice@shop.example', messageId: 'm-two' })).toEqual({
      ...ambiguous,
      via: 'delivery_log',
    });
    expect(await r.resolve({ messageId: 'm-two' })).toEqual({ ...ambiguous, via: 'delivery_log' });
  });

  it('goes by the delivery log without an address, and leaves the unknown unresolved', async () => {
    const { r } = await resolver({}, { 'm-1': [{ message_id: 'm-1', provider_id: 'dprov_log' }] });
    expect(await r.resolve({ sender: 'not an address', messageId: 'm-1' })).toEqual({
      result: 'resolved',
      accountId: 'dprov_log',
      via: 'delivery_log',
    });
    expect(await r.resolve({ messageId: 'm-2' })).toEqual({ result: 'unresolved' });
    expect(await r.resolve({})).toEqual({ result: 'unresolved' });
  });

  it('when the delivery log fails: a shared address is ambiguous, an unknown one unresolved, and it is asked again', async () => {
    const { r, searched } = await resolver(
      { 'elsewhere.example': 'dprov_dom' },
      { 'm-1': new Error('503') },
    );
    expect(await r.resolve({ sender: 'twice@shop.example', messageId: 'm-1' })).toEqual({
      result: 'ambiguous',
      candidates: ['dprov_c', 'dprov_d'],
      via: 'from_email',
    });
    expect(await r.resolve({ sender: 'who@nowhere.example', messageId: 'm-1' })).toEqual({
      result: 'unresolved',
    });
    // An unknown address with a domain entry: the entry, the log being silent.
    expect(await r.resolve({ sender: 'who@elsewhere.example', messageId: 'm-1' })).toEqual({
      result: 'resolved',
      accountId: 'dprov_dom',
      via: 'domain_mapping',
    });
    // A failure is not remembered as a miss.
    expect(searched).toEqual(['m-1', 'm-1', 'm-1']);
  });

  it('sees an address become shared when the accounts are read again', async () => {
    const owners = [{ id: 'dprov_x', from_email: 'ops@shop.example' }];
    const r = createResolver({
      senderMap: new Map(),
      // eslint-disable-next-line @typescript-eslint/require-await -- an async view of a list
      listAccounts: async function* () {
        yield* owners;
      },
    });
    open = r;
    await r.refresh();
    expect(await r.resolve({ sender: 'ops@shop.example' })).toMatchObject({
      accountId: 'dprov_x',
    });
    owners.push({ id: 'dprov_y', from_email: 'Ops <OPS@shop.example>' });
    // The same account listed twice (a page boundary moving) is still one account.
    owners.push({ id: 'dprov_x', from_email: 'ops@shop.example' });
    await r.refresh();
    expect(await r.resolve({ sender: 'ops@shop.example' })).toEqual({
      result: 'ambiguous',
      candidates: ['dprov_x', 'dprov_y'],
      via: 'from_email',
    });
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
    expect(await r.resolve({ messageId: 'hit-1' })).toMatchObject({ accountId: 'dprov_h' });
    expect(calls).toBe(4);
  });

  it('refuses a bad BREAKER_SENDER_MAP naming the entry and the rule', () => {
    expect(() => parseSenderMap('nope')).toThrow(ConfigError);
    expect(() => parseSenderMap('{"a@b.c": "prov_1"}')).toThrow(
      /BREAKER_SENDER_MAP: "a@b.c": "prov_1" must be a sending account id/,
    );
    expect(() => parseSenderMap('{"a@b.c, d@e.f": "dprov_1"}')).toThrow(
      /BREAKER_SENDER_MAP: "a@b.c, d@e.f" is neither one email address nor a domain/,
    );
    // Addresses are read as senders are; domains are lower-cased.
    expect([
      ...parseSenderMap('{"News <NEWS@Shop.example>": "dprov_1", "Shop.Example": "dprov_2"}'),
    ]).toEqual([
      ['news@shop.example', 'dprov_1'],
      ['shop.example', 'dprov_2'],
    ]);
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
      account_id: 'dprov_x',
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
