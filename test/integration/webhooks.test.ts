/**
 * The HTTP server over real loopback HTTP and a real Redis (a prefix per test): the Sendmux
 * webhook receiver (signature, dedupe, inbox), the admin token, secrets kept out of logs, the
 * inbox's consumer group, and `serve` starting and stopping.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { serve } from '../../src/ops/serve.js';
import { webhookSignature } from '../../src/sendmux/webhook-signature.js';
import { appendToInbox } from '../../src/store/webhook-inbox-append.js';
import { ackInbox, readInbox } from '../../src/store/webhook-inbox-read.js';
import { redisPerTest, testConfig, waitFor } from '../support/context.js';

const SECRET = 'whsec_test_3f9a1c0b7e';
const ADMIN = 'admin-token-0123456789abcdef';

const ctx = redisPerTest();
let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function config(overrides: Partial<Config> = {}): Config {
  return testConfig({
    prefix: ctx.current().keys.prefix,
    adminToken: ADMIN,
    webhookSecret: SECRET,
    ...overrides,
  });
}

/** Build and listen on an ephemeral loopback port; returns the port. */
async function start(
  overrides: Partial<Config> = {},
  logger: Logger = createLogger({ level: 'silent' }),
): Promise<number> {
  app = await buildServer({ config: config(overrides), redis: ctx.current().redis, logger });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

interface Answer {
  status: number;
  json: unknown;
}

/** One HTTP request on its own connection (no keep-alive agent left open after the test). */
function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, json: text === '' ? undefined : JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function event(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'evt_1',
    type: 'message.bounced',
    team_public_id: 'team_1',
    occurred_at: new Date().toISOString(),
    data: { message_id: 'm1@example.com', sender: 'news@example.com', bounce_type: 'Permanent' },
    ...fields,
  };
}

/** POST a webhook; signed with SECRET unless headers say otherwise. */
function postWebhook(
  port: number,
  body: Buffer | string,
  headers: Record<string, string | undefined> = {},
): Promise<Answer> {
  const all: Record<string, string | undefined> = {
    'content-type': 'application/json',
    'x-sendmux-signature': webhookSignature(SECRET, body),
    ...headers,
  };
  const sent = Object.fromEntries(
    Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return call(port, 'POST', '/webhooks/sendmux', sent, body);
}

async function inboxLength(): Promise<number> {
  const { redis, keys } = ctx.current();
  return redis.xlen(keys.webhookInbox);
}

async function seenMarks(): Promise<string[]> {
  const { redis, keys } = ctx.current();
  return redis.keys(`${keys.webhookSeen('')}*`);
}

describe('POST /webhooks/sendmux', () => {
  it('stores a validly signed event as it came (type + raw body) and answers 202', async () => {
    const port = await start();
    // Not the canonical JSON.stringify spacing: the body is stored byte for byte.
    const body = JSON.stringify(event(), null, 1);
    const answer = await postWebhook(port, body, { 'x-sendmux-event-id': 'evt_1' });
    expect(answer).toEqual({ status: 202, json: { accepted: true } });
    const { redis, keys } = ctx.current();
    const entries = await redis.xrange(keys.webhookInbox, '-', '+');
    expect(entries).toHaveLength(1);
    expect(entries[0]?.[1]).toEqual(['type', 'message.bounced', 'body', body]);
    // The dedupe mark lasts the window (48 h by default).
    const ttl = await redis.ttl(keys.webhookSeen('evt_1'));
    expect(ttl).toBeGreaterThan(172_800 - 60);
    expect(ttl).toBeLessThanOrEqual(172_800);
  });

  it.each([
    ['forged with another secret', (b: string) => webhookSignature('not-the-secret', b)],
    ['missing', () => undefined],
    [
      'with another prefix (sha1=)',
      (b: string) => webhookSignature(SECRET, b).replace('sha256', 'sha1'),
    ],
    [
      'of the body before one byte changed',
      (b: string) => webhookSignature(SECRET, b.replace('"evt_1"', '"evt_2"')),
    ],
  ])('answers 401 to a signature %s, storing and marking nothing', async (_what, sign) => {
    const port = await start();
    const body = JSON.stringify(event());
    const answer = await postWebhook(port, body, { 'x-sendmux-signature': sign(body) });
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ error: { code: 'invalid_signature' } });
    expect(await inboxLength()).toBe(0);
    expect(await seenMarks()).toEqual([]);
    // The same body properly signed is then accepted: nothing was marked seen.
    expect((await postWebhook(port, body)).status).toBe(202);
  });

  it('stores a retried delivery once: the retry answers 200 duplicate', async () => {
    const port = await start();
    const body = JSON.stringify(event({ id: 'evt_dup' }));
    const first = await postWebhook(port, body, { 'x-sendmux-event-id': 'evt_dup' });
    const retry = await postWebhook(port, body, {
      'x-sendmux-event-id': 'evt_dup',
      'x-sendmux-delivery-attempt': '2',
    });
    // Without the header the body's id dedupes the same way.
    const noHeader = await postWebhook(port, body);
    expect(first).toEqual({ status: 202, json: { accepted: true } });
    expect(retry).toEqual({ status: 200, json: { accepted: false, duplicate: true } });
    expect(noHeader).toEqual({ status: 200, json: { accepted: false, duplicate: true } });
    expect(await inboxLength()).toBe(1);
  });

  it('stores concurrent deliveries of one event once', async () => {
    const port = await start();
    const body = JSON.stringify(event({ id: 'evt_race' }));
    const answers = await Promise.all(Array.from({ length: 20 }, () => postWebhook(port, body)));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(19);
    expect(await inboxLength()).toBe(1);
  });

  it('refuses a header id that is not the signed body id (a replay under a new id)', async () => {
    const port = await start();
    const body = JSON.stringify(event({ id: 'evt_1' }));
    expect((await postWebhook(port, body)).status).toBe(202);
    const replay = await postWebhook(port, body, { 'x-sendmux-event-id': 'evt_fresh' });
    expect(replay.status).toBe(400);
    expect(replay.json).toMatchObject({
      error: { code: 'invalid_input', message: "x-sendmux-event-id: must equal the body's id" },
    });
    expect(await inboxLength()).toBe(1);
  });

  it('answers 200 expired to an event older than the dedupe window, storing nothing', async () => {
    const port = await start();
    const old = new Date(Date.now() - 172_800_000 - 60_000).toISOString();
    const answer = await postWebhook(port, JSON.stringify(event({ occurred_at: old })));
    expect(answer).toEqual({ status: 200, json: { accepted: false, expired: true } });
    expect(await inboxLength()).toBe(0);
    expect(await seenMarks()).toEqual([]);
  });

  it.each(['sendmux.test', 'message.delivery_delayed', 'message.received'])(
    'answers 200 ignored to %s and stores nothing',
    async (type) => {
      const port = await start();
      const answer = await postWebhook(port, JSON.stringify(event({ type })));
      expect(answer).toEqual({ status: 200, json: { accepted: false, ignored: true } });
      expect(await inboxLength()).toBe(0);
      expect(await seenMarks()).toEqual([]);
    },
  );

  it('answers 400 invalid_json to a malformed body with a valid signature', async () => {
    const port = await start();
    const answer = await postWebhook(port, '{"id":"evt_1","type":"message.bounced"');
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: { code: 'invalid_input' } });
    expect(await inboxLength()).toBe(0);
  });

  it('answers 400 naming the field when the (signed) body has no id, even with the header id', async () => {
    const port = await start();
    const body = JSON.stringify(event({ id: undefined }));
    for (const headers of [{}, { 'x-sendmux-event-id': 'evt_h' }]) {
      const answer = await postWebhook(port, body, headers);
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: { code: 'invalid_input' } });
      expect(JSON.stringify(answer.json)).toContain('id: is required in the (signed) body');
    }
    expect(await inboxLength()).toBe(0);
  });

  it('answers 400 naming the rule when occurred_at is further ahead than WEBHOOK_CLOCK_SKEW_S', async () => {
    const port = await start({ webhookClockSkewS: 60 });
    const ahead = (s: number) =>
      JSON.stringify(event({ id: `evt_ahead_${s}`, occurred_at: new Date(Date.now() + s * 1000) }));
    const far = await postWebhook(port, ahead(3_600));
    expect(far.status).toBe(400);
    expect(far.json).toMatchObject({
      error: {
        code: 'invalid_input',
        message: expect.stringMatching(
          /^occurred_at: must not be in the future \(more than 60 s/,
        ) as unknown,
      },
    });
    expect(await inboxLength()).toBe(0);
    // A clock a little ahead of ours is fine.
    expect((await postWebhook(port, ahead(20))).status).toBe(202);
  });

  it('accepts a body of exactly WEBHOOK_BODY_LIMIT_BYTES and answers 413 to one byte more', async () => {
    const limit = 2_048;
    const port = await start({ webhookBodyLimitBytes: limit });
    const padded = (size: number, id: string) => {
      const base = JSON.stringify(event({ id, pad: '' }));
      return JSON.stringify(event({ id, pad: 'x'.repeat(size - Buffer.byteLength(base)) }));
    };
    const atLimit = padded(limit, 'evt_at');
    const over = padded(limit + 1, 'evt_over');
    expect(Buffer.byteLength(atLimit)).toBe(limit);
    expect((await postWebhook(port, atLimit)).status).toBe(202);
    const answer = await postWebhook(port, over);
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ error: { code: 'body_too_large' } });
    expect(await inboxLength()).toBe(1);
  });

  it('verifies the raw bytes whatever the content type (or none)', async () => {
    const port = await start();
    const body = JSON.stringify(event({ id: 'evt_text' }));
    expect((await postWebhook(port, body, { 'content-type': 'text/plain' })).status).toBe(202);
    const body2 = JSON.stringify(event({ id: 'evt_none' }));
    expect((await postWebhook(port, body2, { 'content-type': undefined })).status).toBe(202);
    expect(await inboxLength()).toBe(2);
  });

  it('answers 503 invalid_config when SENDMUX_WEBHOOK_SECRET is unset', async () => {
    const port = await start({ webhookSecret: undefined });
    const answer = await postWebhook(port, JSON.stringify(event()));
    expect(answer.status).toBe(503);
    expect(answer.json).toMatchObject({ error: { code: 'invalid_config' } });
    expect(await inboxLength()).toBe(0);
  });
});

describe('the admin token', () => {
  const whoami = (port: number, authorization?: string) =>
    call(port, 'GET', '/v1/whoami', authorization === undefined ? {} : { authorization });

  it('guards /v1/whoami: missing and wrong answer 401, right answers 200', async () => {
    const port = await start();
    const missing = await whoami(port);
    const wrong = await whoami(port, `Bearer ${'x'.repeat(ADMIN.length)}`);
    const prefix = await whoami(port, `Bearer ${ADMIN.slice(0, -1)}`);
    const basic = await whoami(port, `Basic ${ADMIN}`);
    for (const a of [missing, wrong, prefix, basic]) {
      expect(a.status).toBe(401);
      expect(a.json).toMatchObject({ error: { code: 'unauthorized' } });
    }
    expect(await whoami(port, `Bearer ${ADMIN}`)).toEqual({
      status: 200,
      json: { ok: true, name: 'admin', kind: 'admin' },
    });
  });

  it('closes paths no route matches too; /healthz and the webhook need no token', async () => {
    const port = await start();
    expect((await call(port, 'GET', '/v1/nothing-here')).status).toBe(401);
    expect(
      (await call(port, 'GET', '/v1/nothing-here', { authorization: `Bearer ${ADMIN}` })).status,
    ).toBe(404);
    expect(await call(port, 'GET', '/healthz')).toEqual({ status: 200, json: { ok: true } });
    expect((await postWebhook(port, JSON.stringify(event()))).status).toBe(202);
  });

  it('answers 503 invalid_config on admin routes when ADMIN_TOKEN is unset', async () => {
    const port = await start({ adminToken: undefined });
    const answer = await whoami(port, 'Bearer anything-at-all-0123');
    expect(answer.status).toBe(503);
    expect(answer.json).toMatchObject({ error: { code: 'invalid_config' } });
    expect((await call(port, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('logs', () => {
  it('never carry the admin token, the webhook secret or a signature', async () => {
    let raw = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        raw += chunk.toString();
        cb();
      },
    });
    const logger = createLogger({ level: 'trace', destination: stream });
    const port = await start({}, logger);
    const body = JSON.stringify(event());
    const signature = webhookSignature(SECRET, body);
    await postWebhook(port, body, { authorization: `Bearer ${ADMIN}` });
    await postWebhook(port, body, { 'x-sendmux-signature': webhookSignature('wrong', body) });
    await call(port, 'GET', '/v1/whoami', { authorization: `Bearer ${ADMIN}` });
    await call(port, 'GET', '/v1/whoami', { authorization: `Bearer ${ADMIN}x` });
    // What a careless log line might carry: the config, or a request's headers.
    const cfg = config();
    logger.info({ config: cfg }, 'config');
    logger.info(
      { req: { headers: { authorization: `Bearer ${ADMIN}`, 'x-sendmux-signature': signature } } },
      'headers',
    );
    expect(raw).toContain('"status":202'); // the requests were logged
    expect(raw).toContain('webhook refused');
    for (const secret of [ADMIN, SECRET, signature.slice('sha256='.length)]) {
      expect(raw).not.toContain(secret);
    }
  });
});

describe('the webhook inbox', () => {
  it('a consumer that reads and does not ack loses nothing: another one claims the entry', async () => {
    const { redis, keys } = ctx.current();
    const bodyOf = (id: string) => JSON.stringify({ id, type: 'message.bounced' });
    const append = async (id: string) => {
      const r = await appendToInbox(
        redis,
        keys,
        { id, type: 'message.bounced', body: bodyOf(id) },
        { dedupeTtlS: 60, maxLen: 1_000, maxBytes: 1_000_000 },
      );
      return r.stored ? r.id : undefined;
    };
    // Stored before any group exists: the group starts from the beginning of the stream.
    const [e1, e2] = [await append('evt_a'), await append('evt_b')];
    expect(await append('evt_a')).toBeUndefined();
    const opts = { group: 'breaker', count: 10, claimIdleMs: 200 };

    const first = await readInbox(redis, keys, { ...opts, consumer: 'crashes' });
    expect(first.map((e) => [e.id, e.claimed, e.deliveries])).toEqual([
      [e1, false, 1],
      [e2, false, 1],
    ]);
    expect(JSON.parse(first[0]?.body ?? '')).toMatchObject({ id: 'evt_a' });
    // It processed the first one, then "crashed" before acknowledging the second.
    expect(await ackInbox(redis, keys, 'breaker', [e1 ?? ''])).toBe(1);

    // Before claimIdleMs, nothing for another consumer.
    expect(await readInbox(redis, keys, { ...opts, consumer: 'survivor' })).toEqual([]);
    // Idle past claimIdleMs, as Redis counts it.
    await waitFor(async () => {
      const [entry] = (await redis.xpending(keys.webhookInbox, 'breaker', '-', '+', 1)) as [
        string,
        string,
        number,
        number,
      ][];
      return (entry?.[2] ?? 0) > opts.claimIdleMs || undefined;
    });
    const again = await readInbox(redis, keys, { ...opts, consumer: 'survivor' });
    expect(again).toEqual([
      {
        id: e2,
        type: 'message.bounced',
        body: bodyOf('evt_b'),
        claimed: true,
        deliveries: 2, // read by the one that crashed, then claimed
      },
    ]);
    expect(await ackInbox(redis, keys, 'breaker', [e2 ?? ''])).toBe(1);
    // Nothing pending: there is nothing to claim, however long it stays idle.
    expect(((await redis.xpending(keys.webhookInbox, 'breaker')) as [number])[0]).toBe(0);
    expect(await readInbox(redis, keys, { ...opts, consumer: 'survivor' })).toEqual([]);
  });

  it('a blocking read returns a new entry as it arrives', async () => {
    const { redis, keys } = ctx.current();
    const reader = redis.duplicate();
    try {
      const opts = { group: 'g', consumer: 'c', blockMs: 5_000 };
      // Create the group first (an empty read), then block.
      expect(await readInbox(reader, keys, { ...opts, blockMs: undefined })).toEqual([]);
      const readerId = String(await reader.client('ID'));
      const read = readInbox(reader, keys, opts);
      // Appended once the read blocks (Redis lists its connection as blocked, flags=b).
      await waitFor(async () => {
        const line = String(await redis.client('LIST', 'ID', readerId));
        return /\bflags=\w*b/.test(line) || undefined;
      });
      await appendToInbox(
        redis,
        keys,
        { id: 'evt_x', type: 'message.delivered', body: '{}' },
        { dedupeTtlS: 60, maxLen: 1_000, maxBytes: 1_000_000 },
      );
      expect((await read).map((e) => e.type)).toEqual(['message.delivered']);
    } finally {
      await reader.quit();
    }
  });
});

describe('serve', () => {
  it('listens on the port it is given, and closes on the signal', async () => {
    const controller = new AbortController();
    let url = '';
    const cfg = config();
    const served = serve(cfg, createLogger({ level: 'silent' }), {
      signal: controller.signal,
      buildServer,
      port: 0,
      host: '127.0.0.1',
      onListening: (u) => {
        url = u;
      },
    });
    for (let i = 0; i < 200 && url === ''; i++) await new Promise((r) => setTimeout(r, 10));
    const port = Number(new URL(url).port);
    expect(await call(port, 'GET', '/healthz')).toEqual({ status: 200, json: { ok: true } });
    controller.abort();
    expect(await served).toEqual({ forced: false });
    await expect(call(port, 'GET', '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});
