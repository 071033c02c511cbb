/**
 * The public port cannot be held by slow or idle clients, nor exhausted by many: real sockets
 * (node:net) against the real server, listening on loopback.
 *
 * - a client trickling header bytes is closed after HTTP_HEADERS_TIMEOUT_MS;
 * - a client withholding the last body bytes is answered 408 and closed after
 *   HTTP_REQUEST_TIMEOUT_MS;
 * - an idle keep-alive connection is closed after HTTP_KEEP_ALIVE_TIMEOUT_MS;
 * - past HTTP_MAX_CONNECTIONS a new connection is closed as it opens, while the open ones still
 *   work, and a new one works once they are gone.
 *
 * Each bound is asserted with generous slack (node checks the header and request timeouts once a
 * second, CONNECTIONS_CHECK_MS); before the fix the connections stayed open for minutes.
 */
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { buildOpsServer } from '../../src/http/probe-routes.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { registry } from '../../src/metrics/metrics.js';
import { testConfig, waitFor } from '../support/context.js';

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });

let app: HttpServer | undefined;
let redis: Redis | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await app?.close();
  await redis?.quit();
  app = redis = undefined;
});

async function listen(overrides: Partial<Config>, log = logger): Promise<number> {
  const config = testConfig({
    adminToken: 'admin-token-http-limits-0123456',
    webhookSecret: 'whsec_http_limits',
    ...overrides,
  });
  redis = new Redis(config.redisUrl);
  app = await buildServer({ config, redis, logger: log });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface Client {
  socket: Socket;
  /** What the server sent so far. */
  received(): string;
  /** Resolves with the ms from connecting to the server closing (or resetting) it. */
  closed: Promise<number>;
  isClosed(): boolean;
}

async function client(port: number): Promise<Client> {
  const socket = connect({ port, host: '127.0.0.1' });
  sockets.push(socket);
  let data = '';
  let done = false;
  const started = performance.now();
  socket.on('data', (b: Buffer) => (data += b.toString()));
  const closed = new Promise<number>((resolve) => {
    socket.on('error', () => undefined);
    socket.on('close', () => {
      done = true;
      resolve(performance.now() - started);
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => data, closed, isClosed: () => done };
}

/** Writes `next()` every `everyMs` until the socket closes. */
function trickle(c: Client, everyMs: number, next: () => string): void {
  const timer = setInterval(() => {
    if (c.isClosed()) clearInterval(timer);
    else c.socket.write(next());
  }, everyMs);
  void c.closed.then(() => {
    clearInterval(timer);
  });
}

async function getOk(port: number, path = '/healthz'): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  await res.arrayBuffer();
  return res.status;
}

async function refusedCount(): Promise<number> {
  const metric = await registry
    .getSingleMetric('sendmux_deactivator_http_connections_refused_total')
    ?.get();
  return metric?.values[0]?.value ?? 0;
}

describe('the HTTP server bounds slow and idle clients', () => {
  it('closes a client trickling its headers after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const port = await listen({ httpHeadersTimeoutMs: 1_000, httpRequestTimeoutMs: 30_000 });
    const c = await client(port);
    c.socket.write('POST /webhooks/sendmux HTTP/1.1\r\nHost: x\r\n');
    let n = 0;
    trickle(c, 100, () => `X-Slow-${n++}: a\r\n`);
    const ms = await c.closed;
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(6_000);
    // The server is fine for everyone else.
    expect(await getOk(port)).toBe(200);
  });

  it("bounds the worker's ops server (WORKER_METRICS_PORT) the same way", async () => {
    const config = testConfig({ httpHeadersTimeoutMs: 1_000, httpMaxConnections: 2 });
    app = await buildOpsServer({ config, logger });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    const c = await client(port);
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    let n = 0;
    trickle(c, 100, () => `X-Slow-${n++}: a\r\n`);
    const ms = await c.closed;
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(6_000);
    expect(app.server.maxConnections).toBe(2);
    expect(await getOk(port)).toBe(200);
  });

  it('answers 408 and closes a client withholding the last body bytes after HTTP_REQUEST_TIMEOUT_MS', async () => {
    const port = await listen({ httpHeadersTimeoutMs: 1_000, httpRequestTimeoutMs: 2_000 });
    const c = await client(port);
    const body = Buffer.alloc(64 * 1024, 'a');
    c.socket.write(
      `POST /webhooks/sendmux HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 100_000}\r\n\r\n`,
    );
    c.socket.write(body);
    // A byte of the body now and then: never idle, never finished.
    trickle(c, 200, () => ' ');
    const ms = await c.closed;
    expect(ms).toBeGreaterThanOrEqual(1_900);
    expect(ms).toBeLessThan(8_000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(await getOk(port)).toBe(200);
  });

  it('closes an idle keep-alive connection after HTTP_KEEP_ALIVE_TIMEOUT_MS', async () => {
    const port = await listen({ httpKeepAliveTimeoutMs: 1_000 });
    const c = await client(port);
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await waitFor(() => (/\{"ok":true\}/.test(c.received()) ? true : undefined), 5_000);
    const ms = await c.closed;
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(6_000);
  });

  it('closes connections past HTTP_MAX_CONNECTIONS as they open; the open ones, and later ones, work', async () => {
    const port = await listen({ httpMaxConnections: 5 });
    const before = await refusedCount();
    // Five connections held open with a request half sent.
    const held: Client[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await client(port);
      c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      held.push(c);
    }
    await waitFor(
      () =>
        new Promise<true | undefined>((resolve) => {
          app?.server.getConnections((_err, n) => {
            resolve(n === 5 ? true : undefined);
          });
        }),
      5_000,
      'five open connections',
    );
    // The sixth is closed as it opens, with no answer.
    const extra = await client(port).catch(() => undefined);
    if (extra) {
      extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await extra.closed;
      expect(extra.received()).toBe('');
    }
    expect(await refusedCount()).toBe(before + 1);
    // The five finish their requests.
    for (const c of held) c.socket.write('Connection: close\r\n\r\n');
    for (const c of held) {
      await c.closed;
      expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
    }
    // They are gone: a new connection works.
    await waitFor(
      () =>
        new Promise<true | undefined>((resolve) => {
          app?.server.getConnections((_err, n) => {
            resolve(n === 0 ? true : undefined);
          });
        }),
      5_000,
      'the connections to close',
    );
    expect(await getOk(port)).toBe(200);
    await sleep(0);
  });
});

/** The server's log lines, as parsed JSON. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  let bytes = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      for (const l of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      cb();
    },
  });
  return {
    lines,
    bytes: () => bytes,
    logger: createLogger({ level: 'info', destination: stream }),
  };
}

async function rejected(reason: string): Promise<number> {
  const metric = await registry
    .getSingleMetric('sendmux_deactivator_webhooks_rejected_total')
    ?.get();
  return metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('a flood of forged webhooks', () => {
  it('logs a bad signature at most once per interval, with how many were left out; the metric counts all', async () => {
    const out = capture();
    await listen({}, out.logger);
    const before = await rejected('invalid_signature');
    const N = 500;
    for (let i = 0; i < N; i++) {
      const res = await app?.inject({
        method: 'POST',
        url: '/webhooks/sendmux',
        headers: {
          'content-type': 'application/json',
          'x-sendmux-signature': `sha256=${'0'.repeat(64)}`,
          'x-sendmux-event-id': `evt_forged_${i}`,
        },
        payload: '{"id":"evt_forged","type":"message.bounced"}',
      });
      expect(res?.statusCode).toBe(401);
    }
    expect(await rejected('invalid_signature')).toBe(before + N);
    const warned = out.lines.filter((l) => String(l.msg).includes('X-Sendmux-Signature'));
    // One line per LOG_THROTTLE_MS (10 s): this loop takes far less, so one or two at most.
    expect(warned.length).toBeGreaterThanOrEqual(1);
    expect(warned.length).toBeLessThanOrEqual(2);
    expect(warned[0]).toMatchObject({ level: 40, suppressed: 0, event_id: 'evt_forged_0' });
    expect(out.bytes()).toBeLessThan(4_096);
  });
});

describe('path parameters', () => {
  it('routes the longest valid account id (through the admin token); a longer segment is a 414 in the project shape', async () => {
    await listen({});
    const server = app as HttpServer;
    const auth = { authorization: 'Bearer admin-token-http-limits-0123456' };
    const longest = `dprov_${'a'.repeat(128)}`;
    const ok = await server.inject({
      method: 'GET',
      url: `/v1/accounts/${longest}`,
      headers: auth,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ account_id: longest });
    // Without the token it is the admin routes' 401, not a framework answer.
    const anonymous = await server.inject({ method: 'GET', url: `/v1/holds/${longest}` });
    expect(anonymous.statusCode).toBe(401);
    const tooLong = await server.inject({
      method: 'GET',
      url: `/v1/accounts/${longest}b`,
      headers: auth,
    });
    expect(tooLong.statusCode).toBe(414);
    expect(tooLong.json()).toEqual({
      error: {
        code: 'uri_too_long',
        message: 'path: a path segment must be at most 134 characters (the longest account id)',
      },
    });
  });
});
