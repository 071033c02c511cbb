/**
 * The admin token over HTTP: Bearer and Basic (ADMIN_TOKEN as the password, any user name) on
 * an API route, on the status page and on Bull Board (its page, its JSON API and its static
 * files); missing and wrong credentials challenge with Bearer on the API and with Basic on the
 * browser routes; 503 without ADMIN_TOKEN; a state-changing request authenticated with Basic
 * must come from the same origin. Real Redis; the server answers in-process.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { BASIC_CHALLENGE, basicPassword, credentialOf } from '../../src/http/auth.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { dropPrefix, testConfig } from '../support/context.js';

const ADMIN = 'admin-token-http-auth-0123';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

let app: HttpServer | undefined;
let redis: Redis | undefined;
let config: Config | undefined;
afterEach(async () => {
  await app?.close();
  await redis?.quit();
  if (config) await dropPrefix(config.prefix);
  app = redis = config = undefined;
});

async function start(adminToken: string | null = ADMIN): Promise<HttpServer> {
  config = { ...testConfig(), adminToken: adminToken ?? undefined };
  redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  const logger = createLogger({ level: 'silent', pretty: false });
  app = await buildServer({ config, redis, logger });
  return app;
}

/** A static file Bull Board serves (under its /static/ route). */
const STATIC_FILE = '/admin/queues/static/favicon-32x32.png';

describe('parsing the Authorization header', () => {
  it('reads Bearer and Basic; a Basic password may hold colons; garbage is nothing', () => {
    expect(credentialOf('Bearer abc')).toEqual({ scheme: 'bearer', secret: 'abc' });
    expect(credentialOf(basic('admin', 'p:w').authorization)).toEqual({
      scheme: 'basic',
      secret: 'p:w',
    });
    expect(basicPassword(basic('', 'x').authorization)).toBe('x');
    expect(basicPassword(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toBeUndefined();
    expect(basicPassword('Basic !!!')).toBeUndefined();
    expect(credentialOf('Digest abc')).toBeUndefined();
    expect(credentialOf(undefined)).toBeUndefined();
  });
});

describe('the admin token', () => {
  const cases = [
    { what: 'an API route', url: '/v1/whoami', challenge: 'Bearer' },
    { what: 'the status page', url: '/', challenge: BASIC_CHALLENGE },
    { what: "the status page's script", url: '/status.js', challenge: BASIC_CHALLENGE },
    { what: 'Bull Board', url: '/admin/queues', challenge: BASIC_CHALLENGE },
    { what: "Bull Board's API", url: '/admin/queues/api/queues', challenge: BASIC_CHALLENGE },
    { what: "Bull Board's static files", url: STATIC_FILE, challenge: BASIC_CHALLENGE },
  ];

  it.each(cases)(
    '$what: missing or wrong -> 401 with its challenge; Bearer or Basic -> 200',
    async ({ url, challenge }) => {
      const app = await start();
      for (const headers of [{}, bearer('wrong'), basic('admin', 'wrong'), basic('admin', '')]) {
        const res = await app.inject({ method: 'GET', url, headers });
        expect(res.statusCode, JSON.stringify(headers)).toBe(401);
        expect(res.headers['www-authenticate']).toBe(challenge);
        expect(res.json()).toMatchObject({ error: { code: 'unauthorized' } });
      }
      for (const headers of [bearer(ADMIN), basic('admin', ADMIN), basic('anyone', ADMIN)]) {
        const res = await app.inject({ method: 'GET', url, headers });
        expect(res.statusCode, JSON.stringify(headers)).toBe(200);
      }
    },
  );

  it('says which credential was wrong', async () => {
    const app = await start();
    const wrongBasic = await app.inject({
      method: 'GET',
      url: '/v1/whoami',
      headers: basic('admin', 'nope'),
    });
    expect(wrongBasic.json()).toMatchObject({
      error: {
        message: 'Authorization: the Basic password is not ADMIN_TOKEN nor one of ADMIN_TOKENS',
      },
    });
    const wrongBearer = await app.inject({ method: 'GET', url: '/', headers: bearer('nope') });
    expect(wrongBearer.json()).toMatchObject({
      error: {
        message: 'Authorization: the bearer token is not ADMIN_TOKEN nor one of ADMIN_TOKENS',
      },
    });
  });

  it('the page, its files and the dashboard answer what they are', async () => {
    const app = await start();
    const page = await app.inject({ method: 'GET', url: '/', headers: basic('a', ADMIN) });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<h1>sendmux-deactivator</h1>');
    const css = await app.inject({ method: 'GET', url: '/status.css', headers: bearer(ADMIN) });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const icon = await app.inject({ method: 'GET', url: STATIC_FILE, headers: bearer(ADMIN) });
    expect(icon.headers['content-type']).toBe('image/png');
  });

  it('a path no route matches is closed too (Bearer challenge), then 404', async () => {
    const app = await start();
    for (const url of ['/nope', '/v1/nope']) {
      const closed = await app.inject({ method: 'GET', url });
      expect(closed.statusCode).toBe(401);
      expect(closed.headers['www-authenticate']).toBe('Bearer');
      const open = await app.inject({ method: 'GET', url, headers: basic('a', ADMIN) });
      expect(open.statusCode).toBe(404);
    }
    const missingStatic = await app.inject({
      method: 'GET',
      url: '/admin/queues/static/nope.js',
    });
    expect(missingStatic.statusCode).toBe(401);
  });

  it('without ADMIN_TOKEN: 503 invalid_config everywhere but the public routes', async () => {
    const app = await start(null);
    for (const url of ['/v1/whoami', '/', '/admin/queues', STATIC_FILE]) {
      const res = await app.inject({ method: 'GET', url, headers: basic('a', 'anything') });
      expect(res.statusCode, url).toBe(503);
      expect(res.json()).toMatchObject({ error: { code: 'invalid_config' } });
    }
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('Basic on a state-changing request: only from the same origin (no cross-site forms)', async () => {
    const app = await start();
    const post = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/v1/actions',
        headers: { host: 'status.example:8080', 'content-type': 'application/json', ...headers },
        // Invalid on purpose: past the auth check it is a 400, and nothing is enqueued.
        payload: { action: 'deactivate', accounts: [] },
      });
    const creds = basic('admin', ADMIN);
    for (const headers of [
      { ...creds, origin: 'https://evil.example' },
      { ...creds, origin: 'null' },
      { ...creds, 'sec-fetch-site': 'cross-site' },
      { ...creds, 'sec-fetch-site': 'same-site', origin: 'http://status.example:8080' },
    ]) {
      const res = await post(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json()).toMatchObject({ error: { code: 'cross_site_request' } });
    }
    for (const headers of [
      { ...creds, origin: 'http://status.example:8080' },
      { ...creds, 'sec-fetch-site': 'same-origin', origin: 'http://status.example:8080' },
      // A program (curl): no Origin, no Sec-Fetch-Site.
      creds,
      // A bearer token is never sent by a browser on its own: no origin check.
      { ...bearer(ADMIN), origin: 'https://evil.example' },
    ]) {
      const res = await post(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(400);
    }
    // Reading is allowed cross-site (the browser keeps the answer from the other site).
    const read = await app.inject({
      method: 'GET',
      url: '/v1/whoami',
      headers: { ...creds, 'sec-fetch-site': 'cross-site' },
    });
    expect(read.statusCode).toBe(200);
  });
});
