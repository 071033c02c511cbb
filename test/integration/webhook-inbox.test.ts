/**
 * Accepted means kept until processed (issue 18, part 3): the webhook inbox trims processed
 * entries only, refuses (stores nothing) when full of unprocessed ones, and keeps its byte
 * counter right. At the store (a fast-check property over random interleavings of append /
 * read / claim / ack / dead letter / trim), and end to end: a burst of signed webhooks over
 * real HTTP (buildServer) larger than the backlog cap, the breaker service's consume loop
 * started late, Sendmux's retries of every 503. Real Redis, a prefix per test.
 */
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { startBreakerService, type BreakerService } from '../../src/ops/breaker-service.js';
import { webhookSignature } from '../../src/sendmux/webhook-signature.js';
import { keysFor } from '../../src/store/keys.js';
import { appendToInbox } from '../../src/store/webhook-inbox-append.js';
import { deadLetterInbox } from '../../src/store/webhook-inbox-dead.js';
import { ackInbox, readInbox, type InboxEntry } from '../../src/store/webhook-inbox-read.js';
import { INBOX_GROUP, readInboxState, settleInbox } from '../../src/store/webhook-inbox-trim.js';
import { readWebhookStats } from '../../src/store/webhook-stats.js';
import { redisPerTest, testConfig, waitFor } from '../support/context.js';

const ctx = redisPerTest();
const TYPE = 'message.delivered';

/** Every entry in the stream: id -> stored bytes (type + body). */
async function stored(): Promise<Map<string, number>> {
  const { redis, keys } = ctx.current();
  const raw = (await redis.xrange(keys.webhookInbox, '-', '+')) as [string, string[]][];
  return new Map(
    raw.map(([id, fields]) => [
      id,
      fields.filter((_, i) => i % 2 === 1).reduce((n, v) => n + Buffer.byteLength(v), 0),
    ]),
  );
}

async function counter(): Promise<number> {
  const { redis, keys } = ctx.current();
  return Number((await redis.get(keys.webhookInboxBytes)) ?? 0);
}

describe('the inbox at the store', () => {
  it('refuses when full of unprocessed entries, trims only processed ones, and never past a pending one', async () => {
    const { redis, keys } = ctx.current();
    const caps = { maxLen: 10, maxBytes: 100_000 };
    const append = (i: number) =>
      appendToInbox(
        redis,
        keys,
        { id: `evt_${i}`, type: TYPE, body: `{"n":${i}}` },
        { dedupeTtlS: 60, backlogMax: 6, ...caps },
      );
    // No reader yet: the first append made the group, so nothing is processed.
    const first = [];
    for (let i = 0; i < 9; i++) first.push(await append(i));
    expect(first.slice(0, 6).every((r) => r.stored)).toBe(true);
    expect(first[6]).toEqual({
      stored: false,
      duplicate: false,
      cap: 'backlog',
      backlog: 6,
      entries: 6,
      bytes: 6 * (TYPE.length + '{"n":0}'.length),
    });
    // A refused event is not marked seen: its retry is stored once there is room.
    expect(await redis.exists(keys.webhookSeen('evt_6'))).toBe(0);
    expect((await stored()).size).toBe(6);

    // Read 4, acknowledge the 2nd to 4th: the 1st stays pending and holds every later one.
    const read = await readInbox(redis, keys, { group: INBOX_GROUP, consumer: 'c', count: 4 });
    const ids = read.map((e) => e.id);
    expect(await settleInbox(redis, keys, INBOX_GROUP, ids.slice(1), caps)).toMatchObject({
      acked: 3,
      backlog: 3, // 1 pending + 2 never read
    });
    for (let i = 6; i < 9; i++) expect((await append(i)).stored).toBe(true);
    // 9 entries, 6 unprocessed (1 pending, 5 unread) + 3 acknowledged behind the pending one.
    expect((await append(9)).stored).toBe(false); // backlog 6
    await settleInbox(redis, keys, INBOX_GROUP, [], caps);
    expect((await stored()).size).toBe(9); // under maxLen: the processed history stays
    // The pending one acknowledged: 4 processed at the head, trimmed as room is needed.
    await settleInbox(redis, keys, INBOX_GROUP, ids.slice(0, 1), caps);
    const more = await readInbox(redis, keys, { group: INBOX_GROUP, consumer: 'c', count: 3 });
    await settleInbox(
      redis,
      keys,
      INBOX_GROUP,
      more.map((e) => e.id),
      caps,
    );
    for (let i = 9; i < 12; i++) expect((await append(i)).stored).toBe(true);
    const left = await stored();
    expect(left.size).toBe(10); // maxLen, the oldest processed ones trimmed
    expect([...left.keys()]).not.toContain(ids[0]);
    expect(await counter()).toBe([...left.values()].reduce((a, b) => a + b, 0));
  });

  it('caps the bytes: processed bodies are trimmed to make room, unprocessed ones refuse', async () => {
    const { redis, keys } = ctx.current();
    const body = 'x'.repeat(1_000);
    const size = TYPE.length + body.length;
    const caps = { maxLen: 1_000, maxBytes: 3 * size + 10 };
    const append = (i: number) =>
      appendToInbox(redis, keys, { id: `evt_${i}`, type: TYPE, body }, { dedupeTtlS: 60, ...caps });
    for (let i = 0; i < 3; i++) expect((await append(i)).stored).toBe(true);
    expect(await append(3)).toMatchObject({ stored: false, cap: 'bytes', bytes: 3 * size });
    expect(await counter()).toBe(3 * size);
    // One processed (acknowledged), one given up on (dead-lettered, acknowledged as it moves).
    const [a, b] = await readInbox(redis, keys, { group: INBOX_GROUP, consumer: 'c', count: 2 });
    expect(await ackInbox(redis, keys, INBOX_GROUP, [a?.id ?? ''])).toBe(1);
    expect(await deadLetterInbox(redis, keys, INBOX_GROUP, b as InboxEntry, 'boom')).toBe(true);
    for (let i = 3; i < 5; i++) expect((await append(i)).stored).toBe(true);
    expect(await append(5)).toMatchObject({ stored: false, cap: 'bytes' });
    expect((await stored()).size).toBe(3);
    expect(await counter()).toBe(3 * size);
    // The stream deleted by hand: the counter starts again from what is stored.
    await redis.del(keys.webhookInbox);
    expect((await append(5)).stored).toBe(true);
    expect(await counter()).toBe(size);
  });

  it('sets right the backlog an older version left (entries trimmed before they were read)', async () => {
    const { redis, keys } = ctx.current();
    // The old receiver: the group had read 3 of 10 entries when XADD MAXLEN trimmed 5 it had
    // not read. XINFO's lag still counts them after the 2 left are read and acknowledged (as
    // the old consumer did, without a trim): 5 waiting, where none is.
    for (let i = 0; i < 10; i++)
      await redis.xadd(keys.webhookInbox, '*', 'type', TYPE, 'body', '{}');
    await redis.xgroup('CREATE', keys.webhookInbox, INBOX_GROUP, '0');
    const readAck = async (count?: number) => {
      const read = await readInbox(redis, keys, { group: INBOX_GROUP, consumer: 'c', count });
      await ackInbox(
        redis,
        keys,
        INBOX_GROUP,
        read.map((e) => e.id),
      );
      return read.length;
    };
    expect(await readAck(3)).toBe(3);
    await redis.xtrim(keys.webhookInbox, 'MAXLEN', 2);
    expect(await readAck()).toBe(2);
    const caps = { maxLen: 100, maxBytes: 100_000 };
    const append = (i: number) =>
      appendToInbox(
        redis,
        keys,
        { id: `evt_${i}`, type: TYPE, body: '{}' },
        { dedupeTtlS: 60, backlogMax: 2, ...caps },
      );
    expect(await append(0)).toMatchObject({ stored: false, cap: 'backlog', backlog: 5 });
    // The breaker's settle (caught up): the lag is set right.
    expect(await settleInbox(redis, keys, INBOX_GROUP, [], caps)).toMatchObject({ backlog: 0 });
    expect((await append(0)).stored).toBe(true);
    expect((await append(1)).stored).toBe(true);
    expect(await append(2)).toMatchObject({ stored: false, cap: 'backlog', backlog: 2 });
  });

  it('never trims an unprocessed entry, keeps its caps and its byte count (property)', async () => {
    const { redis } = ctx.current();
    const prefix = ctx.current().keys.prefix;
    type Op =
      | { op: 'append'; bytes: number }
      | { op: 'read'; count: number; claim: boolean; consumer: string }
      | { op: 'ack'; pick: number[]; trim: boolean }
      | { op: 'dead'; pick: number }
      | { op: 'trim' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('append'), bytes: fc.nat(60) }) },
      {
        weight: 2,
        arbitrary: fc.record({
          op: fc.constant('read'),
          count: fc.integer({ min: 1, max: 6 }),
          claim: fc.boolean(),
          // two breaker processes share the group
          consumer: fc.constantFrom('c1', 'c2'),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          op: fc.constant('ack'),
          pick: fc.array(fc.nat(20), { maxLength: 5 }),
          trim: fc.boolean(),
        }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('dead'), pick: fc.nat(20) }) },
      { weight: 1, arbitrary: fc.constant({ op: 'trim' as const }) },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 40, max: 500 }),
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        async (maxLen, backlogWanted, maxBytes, ops) => {
          const keys = keysFor(`${prefix}:r${++run}`);
          const caps = { maxLen, maxBytes };
          const backlogMax = Math.min(backlogWanted, maxLen);
          // The model: every stored entry, its size and where it is.
          const model = new Map<string, { size: number; state: 'new' | 'pending' | 'done' }>();
          const order: string[] = [];
          let n = 0;
          const pendingIds = () => order.filter((id) => model.get(id)?.state === 'pending');
          for (const op of ops) {
            if (op.op === 'append') {
              const body = 'b'.repeat(op.bytes);
              const size = TYPE.length + body.length;
              // What trimming can leave at best: every entry from the oldest unprocessed on.
              const firstOpen = order.findIndex((id) => model.get(id)?.state !== 'done');
              const kept = firstOpen < 0 ? [] : order.slice(firstOpen);
              const keptBytes = kept.reduce((s, id) => s + (model.get(id)?.size ?? 0), 0);
              const backlog = order.filter((id) => model.get(id)?.state !== 'done').length;
              const r = await appendToInbox(
                redis,
                keys,
                { id: `e${++n}`, type: TYPE, body },
                { dedupeTtlS: 60, backlogMax, ...caps },
              );
              if (r.stored) {
                expect(backlog).toBeLessThan(backlogMax);
                model.set(r.id, { size, state: 'new' });
                order.push(r.id);
              } else {
                expect(r.duplicate).toBe(false);
                // Refused only when no trim of processed entries could make room.
                expect(
                  backlog >= backlogMax || keptBytes + size > maxBytes || kept.length >= maxLen,
                ).toBe(true);
              }
            } else if (op.op === 'read') {
              const got = await readInbox(redis, keys, {
                group: INBOX_GROUP,
                consumer: op.consumer,
                count: op.count,
                claimIdleMs: op.claim ? 0 : 60_000,
              });
              for (const e of got) {
                const m = model.get(e.id);
                expect(m, `read ${e.id}, which was never stored`).toBeDefined();
                expect(m?.state).not.toBe('done');
                if (m) m.state = 'pending';
              }
            } else if (op.op === 'ack') {
              const pending = pendingIds();
              const ids = [
                ...new Set(op.pick.map((i) => pending[i % Math.max(1, pending.length)])),
              ].filter((id): id is string => id !== undefined);
              if (op.trim) await settleInbox(redis, keys, INBOX_GROUP, ids, caps);
              else await ackInbox(redis, keys, INBOX_GROUP, ids);
              for (const id of ids) (model.get(id) ?? { state: '' }).state = 'done';
            } else if (op.op === 'dead') {
              const pending = pendingIds();
              const id = pending[op.pick % Math.max(1, pending.length)];
              if (id === undefined) continue;
              const entry = { id, type: TYPE, body: '', claimed: false, deliveries: 9 };
              expect(await deadLetterInbox(redis, keys, INBOX_GROUP, entry, 'x')).toBe(true);
              (model.get(id) ?? { state: '' }).state = 'done';
            } else {
              await settleInbox(redis, keys, INBOX_GROUP, [], caps);
            }
            // Every unprocessed entry is still there; the caps hold; the byte count is right.
            const raw = (await redis.xrange(keys.webhookInbox, '-', '+')) as [string, string[]][];
            const inStream = new Set(raw.map(([id]) => id));
            for (const id of order) {
              if (model.get(id)?.state !== 'done')
                expect(inStream.has(id), `unprocessed ${id} was trimmed`).toBe(true);
            }
            expect(inStream.size).toBeLessThanOrEqual(maxLen);
            const bytes = [...inStream].reduce((s, id) => s + (model.get(id)?.size ?? 0), 0);
            expect(Number((await redis.get(keys.webhookInboxBytes)) ?? 0)).toBe(bytes);
            expect(bytes).toBeLessThanOrEqual(maxBytes);
          }
          await redis.del(
            keys.webhookInbox,
            keys.webhookInboxBytes,
            keys.webhookDead,
            ...[...Array(n).keys()].map((i) => keys.webhookSeen(`e${i + 1}`)),
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('a burst larger than the backlog cap, over HTTP, consumed late', () => {
  const SECRET = 'whsec_inbox_burst_1';
  let app: HttpServer | undefined;
  let service: BreakerService | undefined;
  let agent: Agent | undefined;
  afterEach(async () => {
    agent?.destroy();
    await app?.close();
    await service?.close();
    app = undefined;
    service = undefined;
    agent = undefined;
  });

  function config(overrides: Partial<Config>): Config {
    return testConfig({
      prefix: ctx.current().keys.prefix,
      webhookSecret: SECRET,
      // Each event resolves to one account that never trips (volumes out of reach).
      breakerSenderMap: JSON.stringify({ 'burst@shop.example': 'dprov_burst1' }),
      breakerBounceMinVolume: 1_000_000,
      breakerComplaintMinVolume: 1_000_000,
      ...overrides,
    });
  }

  async function listen(cfg: Config): Promise<number> {
    const logger = createLogger({ level: 'silent' });
    agent = new Agent({ keepAlive: true, maxSockets: 20 });
    // Connected first, as a server is once it serves (the receiver answers 503 without Redis).
    await ctx.current().redis.ping();
    app = await buildServer({ config: cfg, redis: ctx.current().redis, logger });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return (app.server.address() as AddressInfo).port;
  }

  function body(id: string): string {
    return JSON.stringify({
      id,
      type: TYPE,
      team_public_id: 'team_1',
      occurred_at: new Date().toISOString(),
      data: { message_id: `<${id}@shop.example>`, sender: 'burst@shop.example' },
    });
  }

  interface Answer {
    status: number;
    retryAfter: string | undefined;
    code: string | undefined;
  }

  function post(port: number, id: string): Promise<Answer> {
    const payload = body(id);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/webhooks/sendmux',
          agent,
          headers: {
            'content-type': 'application/json',
            'x-sendmux-signature': webhookSignature(SECRET, payload),
            'x-sendmux-event-id': id,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const json = text ? (JSON.parse(text) as { error?: { code?: string } }) : {};
            const h = res.headers['retry-after'];
            resolve({ status: res.statusCode ?? 0, retryAfter: h, code: json.error?.code });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** POST every id once, `connections` at a time. */
  async function burst(port: number, ids: string[], connections = 20) {
    const answers = new Map<string, Answer>();
    let next = 0;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        for (let i = next++; i < ids.length; i = next++) {
          const id = ids[i] ?? '';
          answers.set(id, await post(port, id));
        }
      }),
    );
    return answers;
  }

  it('every 202 is processed; every refusal is a 503 with Retry-After, stored nowhere; Sendmux retries until all are in', async () => {
    const backlogMax = 100;
    const cfg = config({ webhookInboxMaxLen: 150, webhookInboxBacklogMax: backlogMax });
    const port = await listen(cfg);
    const { redis, keys } = ctx.current();
    const ids = Array.from({ length: 600 }, (_, i) => `evt_burst_${i}`);

    // 1. 300 at once, 20 connections, no breaker service running yet.
    const first = await burst(port, ids.slice(0, 300));
    const accepted = new Set([...first].filter(([, a]) => a.status === 202).map(([id]) => id));
    const refused = [...first].filter(([, a]) => a.status !== 202);
    expect(accepted.size).toBe(backlogMax);
    expect(refused).toHaveLength(300 - backlogMax);
    for (const [id, a] of refused) {
      expect(a).toEqual({ status: 503, retryAfter: '30', code: 'inbox_full' });
      expect(await redis.exists(keys.webhookSeen(id))).toBe(0);
    }
    expect(await redis.xlen(keys.webhookInbox)).toBe(backlogMax);
    expect(await readInboxState(redis, keys)).toMatchObject({
      backlog: backlogMax,
      entries: backlogMax,
    });

    // 2. The breaker comes; the rest arrive meanwhile, and Sendmux retries each refusal.
    service = await startBreakerService(cfg, createLogger({ level: 'silent' }), { tickMs: 60_000 });
    let todo = [...refused.map(([id]) => id), ...ids.slice(300)];
    let retries = 0;
    let rounds = 0;
    while (todo.length > 0) {
      const answers = await burst(port, todo);
      todo = [];
      for (const [id, a] of answers) {
        if (a.status === 202) {
          expect(accepted.has(id), `${id} answered 202 twice`).toBe(false);
          accepted.add(id);
        } else {
          expect(a).toEqual({ status: 503, retryAfter: '30', code: 'inbox_full' });
          todo.push(id);
          retries++;
        }
      }
      expect(++rounds, 'Sendmux retried 200 rounds and the inbox never made room').toBeLessThan(
        200,
      );
      if (todo.length > 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(accepted.size).toBe(ids.length);

    // 3. Every accepted event is processed (counted for its account, once).
    const stats = await waitFor(
      async () => {
        const s = await readWebhookStats(redis, keys);
        return s.results.counted >= ids.length ? s : undefined;
      },
      20_000,
      'every accepted event processed',
    );
    expect(stats.results.counted).toBe(ids.length);
    const marks = await Promise.all(ids.map((id) => redis.exists(keys.signalSeen(id))));
    expect(marks.filter((m) => m === 1)).toHaveLength(ids.length);
    const { inbox } = await service.webhookStats();
    expect(inbox.backlog).toBe(0);
    expect(inbox.entries).toBeLessThanOrEqual(150);
    expect(inbox.bytes).toBe(Number(await redis.get(keys.webhookInboxBytes)));
    console.log(
      `inbox burst: ${ids.length} events, ${backlogMax} accepted and ${300 - backlogMax} refused (503) before the breaker ran; ${retries} retried 503s in ${rounds} rounds after; ${stats.results.counted} processed`,
    );
  }, 60_000);

  it('answers 503 with Retry-After once the unprocessed bodies reach WEBHOOK_INBOX_MAX_BYTES', async () => {
    const size = TYPE.length + Buffer.byteLength(body('evt_bytes_0'));
    const port = await listen(config({ webhookInboxMaxBytes: 3 * size + 5 }));
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await post(port, `evt_bytes_${i}`));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 503]);
    expect(answers[3]).toMatchObject({ retryAfter: '30', code: 'inbox_full' });
    const { redis, keys } = ctx.current();
    expect(await redis.xlen(keys.webhookInbox)).toBe(3);
  });
});
