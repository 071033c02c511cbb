/**
 * Every error answer of the HTTP API, fastify's own included (no such route, a body not JSON,
 * too large, of another media type, a path segment too long), has one shape and a code of the
 * table in errors.ts, answered with that code's status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS, type ErrorCode } from '../../src/errors.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { startBreakerService, type BreakerService } from '../../src/ops/breaker-service.js';
import { openWindows, type WindowsHandle } from '../../src/ops/windows.js';
import { simAccountId } from '../../src/sim/index.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

sharedFixtures();

const ADMIN = 'admin-token-http-errors-01234';
const auth = { authorization: `Bearer ${ADMIN}` };
const json = { ...auth, 'content-type': 'application/json' };

let p: Pipeline;
let app: HttpServer;
let breaker: BreakerService;
let windows: WindowsHandle;
beforeAll(async () => {
  p = await startPipeline({ workers: 0, sim: { accounts: 2 } });
  const logger = createLogger({ level: 'silent', pretty: false });
  const config = { ...p.config, adminToken: ADMIN };
  windows = openWindows(config);
  breaker = await startBreakerService(config, logger);
  app = await buildServer({ config, redis: p.redis, logger, windows, breaker });
});
afterAll(async () => {
  await app.close();
  await breaker.close();
  await windows.close();
  await p.stop();
});

interface Request {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  payload?: string;
}

const cases: [string, Request, ErrorCode][] = [
  ['no such route', { method: 'GET', url: '/v1/nope', headers: auth }, 'not_found'],
  ['no token', { method: 'GET', url: '/v1/holds' }, 'unauthorized'],
  [
    'a body that is not JSON',
    { method: 'POST', url: '/v1/actions', headers: json, payload: '{"action":' },
    'invalid_input',
  ],
  [
    'an empty JSON body',
    { method: 'POST', url: '/v1/actions', headers: json, payload: '' },
    'invalid_input',
  ],
  [
    'a body of another media type',
    {
      method: 'POST',
      url: '/v1/actions',
      headers: { ...auth, 'content-type': 'application/xml' },
      payload: '<a/>',
    },
    'unsupported_media_type',
  ],
  [
    'a body too large',
    {
      method: 'POST',
      url: '/v1/actions',
      headers: json,
      payload: JSON.stringify({ reason: 'x'.repeat(2e6) }),
    },
    'body_too_large',
  ],
  [
    'a path segment too long',
    { method: 'GET', url: `/v1/holds/dprov_${'a'.repeat(200)}`, headers: auth },
    'uri_too_long',
  ],
  ['a bad query', { method: 'GET', url: '/v1/events?limit=0', headers: auth }, 'invalid_input'],
  ['a bad account id', { method: 'GET', url: '/v1/breakers/x', headers: auth }, 'invalid_input'],
  ['an unknown batch', { method: 'GET', url: '/v1/batches/nope', headers: auth }, 'not_found'],
  ['an unknown window', { method: 'GET', url: '/v1/windows/nope', headers: auth }, 'not_found'],
  [
    'a reset of a breaker not open',
    { method: 'POST', url: `/v1/breakers/${simAccountId(1)}/reset`, headers: auth },
    'state_conflict',
  ],
];

describe('error answers', () => {
  it.each(cases)('%s: the code of the table, with its status', async (_what, request, code) => {
    const res = await app.inject(request);
    expect({ status: res.statusCode, body: res.json<unknown>() }).toEqual({
      status: ERRORS[code].http,
      body: { error: { code, message: expect.any(String) as string } },
    });
  });
});
