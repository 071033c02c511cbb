/**
 * A minimal stand-in for the Sendmux API, for benchmarks: a plain `node:http` server that
 * answers with canned, contract-valid bodies and does nothing else (no state, no idempotency
 * cache, no faults), so a benchmark against it measures the client side, not the server.
 *
 *   POST /api/v1/providers/:id/deactivate   200, ProviderItem with status inactive
 *   POST /api/v1/providers/:id/activate     200, ProviderItem with status active
 *   GET  /api/v1/providers/:id              200, ProviderItem with status active
 *
 * `data.id` is the id in the path. Every answer carries `X-Request-Id` (= `meta.request_id`),
 * `Content-Type: application/json` and `X-RateLimit-Limit/Remaining/Reset` with a limit no
 * benchmark reaches. A request without a bearer token gets 401, an unknown route 404, both
 * with the API's error envelope. Bodies are pre-serialised around the id and the request id.
 *
 * Run it in its own process (the throughput benchmark does):
 *
 *   node --import tsx bench/stub-server.ts [--port 0] [--host 127.0.0.1]
 *
 * It prints `stub listening: STUB_BASE_URL=http://127.0.0.1:<port>/api/v1` and runs until
 * SIGTERM/SIGINT.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seedAccounts, simAccountId } from '../src/sim/seed.js';

const API_PREFIX = '/api/v1/providers/';
/** X-RateLimit-Limit: far beyond anything a benchmark sends in a window. */
const RATE_LIMIT = 1_000_000_000;
const RATE_WINDOW_MS = 60_000;
const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const CONTENT_TYPE = 'application/json; charset=utf-8';

const ID_MARK = '@@ID@@';
const REQ_MARK = '@@REQ@@';

/** A body split around the account id and the request id: `head id mid requestId tail`. */
interface Template {
  head: string;
  mid: string;
  tail: string;
}

/** A valid ProviderItem in the given state: the simulator's first seeded SMTP account. */
function item(status: 'active' | 'inactive'): Record<string, unknown> {
  const seeded = seedAccounts(1).find((a) => a.id === simAccountId(1));
  if (!seeded) throw new Error('stub: the simulator seeds no regular account');
  return {
    ...seeded,
    id: ID_MARK,
    status,
    is_active: status === 'active',
    status_reason: status === 'active' ? null : 'Deactivated via API',
  };
}

function template(status: 'active' | 'inactive'): Template {
  const json = JSON.stringify({ ok: true, data: item(status), meta: { request_id: REQ_MARK } });
  const [head, rest] = json.split(ID_MARK);
  const [mid, tail] = (rest ?? '').split(REQ_MARK);
  if (head === undefined || mid === undefined || tail === undefined) {
    throw new Error('stub: could not split the body template');
  }
  return { head, mid, tail };
}

const TEMPLATES = { active: template('active'), inactive: template('inactive') };

function errorBody(requestId: string, code: string, message: string): string {
  return JSON.stringify({
    ok: false,
    error: { code, message, retryable: false },
    meta: { request_id: requestId },
  });
}

export interface StubServer {
  /** Base URL as SENDMUX_BASE_URL: `http://host:port/api/v1`. */
  url: string;
  /** Requests answered so far. */
  readonly requests: number;
  close(): Promise<void>;
}

export async function startStubServer(
  options: { port?: number; host?: string } = {},
): Promise<StubServer> {
  const host = options.host ?? '127.0.0.1';
  // Request ids: `req_` + 25 lowercase alphanumerics, a random run part and a counter.
  const run = BigInt(`0x${randomBytes(8).toString('hex')}`)
    .toString(36)
    .padStart(13, '0')
    .slice(-13);
  let requests = 0;
  let windowEnd = 0;
  let windowCount = 0;

  const answer = (
    res: http.ServerResponse,
    status: number,
    requestId: string,
    body: string,
  ): void => {
    const now = Date.now();
    if (now >= windowEnd) {
      windowEnd = (Math.floor(now / RATE_WINDOW_MS) + 1) * RATE_WINDOW_MS;
      windowCount = 0;
    }
    windowCount++;
    res.writeHead(status, [
      'content-type',
      CONTENT_TYPE,
      'content-length',
      String(Buffer.byteLength(body)),
      'cache-control',
      'no-store',
      'x-request-id',
      requestId,
      'x-ratelimit-limit',
      String(RATE_LIMIT),
      'x-ratelimit-remaining',
      String(RATE_LIMIT - windowCount),
      'x-ratelimit-reset',
      String(windowEnd / 1000),
    ]);
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    requests++;
    const requestId = `req_${run}${requests.toString(36).padStart(12, '0')}`;
    const auth = req.headers.authorization;
    if (auth === undefined || !/^bearer \S/i.test(auth)) {
      answer(
        res,
        401,
        requestId,
        errorBody(requestId, 'authentication_required', 'Missing bearer API key'),
      );
      return;
    }
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.startsWith(API_PREFIX)) {
      const [id = '', action, extra] = path.slice(API_PREFIX.length).split('/');
      if (ID_PATTERN.test(id) && extra === undefined) {
        let t: Template | undefined;
        if (req.method === 'GET' && action === undefined) t = TEMPLATES.active;
        else if (req.method === 'POST' && action === 'deactivate') t = TEMPLATES.inactive;
        else if (req.method === 'POST' && action === 'activate') t = TEMPLATES.active;
        if (t) {
          answer(res, 200, requestId, t.head + id + t.mid + requestId + t.tail);
          return;
        }
      }
    }
    answer(res, 404, requestId, errorBody(requestId, 'not_found', 'No such route in the stub'));
  });
  server.keepAliveTimeout = 65_000;
  server.listen(options.port ?? 0, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/api/v1`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const stub = await startStubServer({ port: Number(values.port), host: values.host });
  process.stdout.write(`stub listening: STUB_BASE_URL=${stub.url}\n`);
  const stop = () => {
    void stub.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
