/**
 * Stoplight Prism (`@stoplight/prism-cli`, a devDependency) for the contract tests
 * (test/contract): a mock server generated from Sendmux's OpenAPI file that validates every
 * request against it, or a validating proxy in front of another server, started as a child
 * process on a free loopback port. Prism reports what it found wrong in an `sl-violations`
 * header of each answer; {@link startRecorder} puts a small proxy in front of it that keeps
 * those headers, so a test can fail on any violation of the requests (or of the answers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Sendmux's own OpenAPI file, as kept in the repository. */
export const OPENAPI_FILE = join(ROOT, 'spec', 'sendmux', 'openapi-management.json');

const require = createRequire(import.meta.url);
const PRISM_BIN = join(
  dirname(require.resolve('@stoplight/prism-cli/package.json')),
  'dist',
  'index.js',
);

export interface Prism {
  url: string;
  /** Prism's own log so far (for a failing test's message). */
  log(): string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}

/**
 * `prism mock <spec>` (static examples, or `dynamic`: answers generated from the schemas), or
 * `prism proxy <spec> <upstream>` (forwards, validating both ways).
 */
export async function startPrism(
  mode: { kind: 'mock'; dynamic?: boolean; seed?: number } | { kind: 'proxy'; upstream: string },
  timeoutMs = 60_000,
): Promise<Prism> {
  const port = await freePort();
  const args =
    mode.kind === 'mock'
      ? [
          'mock',
          OPENAPI_FILE,
          // Generated answers without the extra properties the file forbids.
          ...(mode.dynamic ? ['--dynamic', '--json-schema-faker-fillProperties=false'] : []),
        ]
      : ['proxy', OPENAPI_FILE, mode.upstream];
  if (mode.kind === 'mock' && mode.seed !== undefined) args.push('--seed', String(mode.seed));
  const child: ChildProcess = spawn(
    process.execPath,
    [PRISM_BIN, ...args, '--port', String(port), '--host', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const state = { exited: false };
  child.on('exit', () => (state.exited = true));
  child.stdout?.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  const deadline = Date.now() + timeoutMs;
  while (!/Prism is listening/.test(log)) {
    if (child.exitCode !== null) throw new Error(`prism exited (${child.exitCode}):\n${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`prism did not start in ${timeoutMs} ms:\n${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => log,
    async close() {
      const running = () => !state.exited;
      if (!running()) return;
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 5_000))]);
      if (running()) child.kill('SIGKILL');
    },
  };
}

/** One violation Prism reported (its `sl-violations` header). */
export interface Violation {
  location: string[];
  severity: string;
  code: string | number;
  message: string;
}

/** What one request got from Prism. */
export interface Exchange {
  method: string;
  path: string;
  status: number;
  violations: Violation[];
  /** The answer's body as sent (JSON text, or a problem document). */
  body: string;
}

export interface Recorder {
  url: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

/**
 * A pass-through proxy to `target` that keeps each answer's `sl-violations` and body. With
 * `rewrite`, a JSON answer is replaced by what it returns before the client sees it.
 */
export async function startRecorder(
  target: string,
  rewrite?: (body: unknown) => unknown,
): Promise<Recorder> {
  const exchanges: Exchange[] = [];
  const to = new URL(target);
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: to.host },
      },
      (answer) => {
        const raw = answer.headers['sl-violations'];
        let violations: Violation[] = [];
        if (typeof raw === 'string') {
          try {
            violations = JSON.parse(raw) as Violation[];
          } catch {
            violations = [{ location: [], severity: 'Error', code: 'unreadable', message: raw }];
          }
        }
        const exchange: Exchange = {
          method: req.method ?? '',
          path: req.url ?? '',
          status: answer.statusCode ?? 0,
          violations,
          body: '',
        };
        exchanges.push(exchange);
        if (rewrite === undefined) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.on('data', (b: Buffer) => (exchange.body += b.toString()));
          answer.pipe(res);
          return;
        }
        let text = '';
        answer.on('data', (b: Buffer) => (text += b.toString()));
        answer.on('end', () => {
          try {
            exchange.body = JSON.stringify(rewrite(JSON.parse(text) as unknown));
          } catch {
            exchange.body = text;
          }
          const headers = { ...answer.headers };
          delete headers['content-length'];
          delete headers['transfer-encoding'];
          res.writeHead(answer.statusCode ?? 502, headers);
          res.end(exchange.body);
        });
      },
    );
    upstream.on('error', (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/**
 * Violations of one side, with where they happened: those of the `sl-violations` header, and
 * those of a problem document Prism answered with instead of an answer (a request it refused:
 * 422 with `validation`, 401 for a missing credential). A violation located in the `response`
 * is the answer's; any other location (`query`, `header`, `path`, `body`, `request`) is the
 * request's.
 */
export function violationsOf(
  exchanges: readonly Exchange[],
  side: 'request' | 'response',
): string[] {
  return exchanges.flatMap((e) => {
    const found = [...e.violations, ...problemViolations(e)];
    return found
      .filter((v) => (v.location[0] === 'response') === (side === 'response'))
      .map((v) => `${e.method} ${e.path}: ${v.location.join('.')}: ${v.message}`);
  });
}

/** The violations of a Prism problem document (`type` https://stoplight.io/prism/errors#...). */
function problemViolations(e: Exchange): Violation[] {
  let body: unknown;
  try {
    body = JSON.parse(e.body);
  } catch {
    return [];
  }
  if (body === null || typeof body !== 'object') return [];
  const problem = body as { type?: unknown; title?: unknown; validation?: unknown };
  if (typeof problem.type !== 'string' || !problem.type.includes('stoplight.io/prism/errors')) {
    return [];
  }
  if (Array.isArray(problem.validation) && problem.validation.length > 0) {
    return problem.validation as Violation[];
  }
  return [
    {
      location: ['request'],
      severity: 'Error',
      code: problem.type,
      message: String(problem.title),
    },
  ];
}

/**
 * Prism 5.14's generator ignores a numeric `exclusiveMinimum` (OpenAPI 3.1), so every generated
 * `ProviderQuotaRange` has numbers <= 0, which the file's own schema forbids
 * (spec/sendmux/PRISM-NOTES.md). This puts such a number back in range (1 + its absolute value)
 * and changes nothing else, so the client meets generated answers the file calls valid.
 */
export function repairQuotaRanges(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(repairQuotaRanges);
  if (body === null || typeof body !== 'object') return body;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (key === 'quotas' && value !== null && typeof value === 'object') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([period, range]) => [
          period,
          repairRange(range),
        ]),
      );
    } else {
      out[key] = repairQuotaRanges(value);
    }
  }
  return out;
}

function repairRange(range: unknown): unknown {
  if (range === null || typeof range !== 'object') return range;
  const fix = (n: unknown) => (typeof n === 'number' && n <= 0 ? 1 + Math.abs(n) : n);
  const r = range as Record<string, unknown>;
  return { ...r, min: fix(r.min), max: fix(r.max) };
}
