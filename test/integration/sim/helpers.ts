/**
 * Shared helpers for the simulator integration tests: real HTTP over loopback with node:http,
 * so socket-level faults surface as they would in a client: a dropped connection is
 * ECONNRESET ("socket hang up"), a hang ends in our ETIMEDOUT. Connections are not kept
 * alive by default (`Connection: close`), so no socket outlives its test (leak guard).
 */
import { request } from 'node:http';
import type { Agent, IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startSimulator } from '../../../src/sim/index.js';
import type { Simulator, SimulatorOptions } from '../../../src/sim/index.js';

export const ROOT_KEY = 'smx_root_sim_key';

export interface CallOptions {
  /** Bearer token; null sends no Authorization header. Default: the root key. */
  key?: string | null;
  idem?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  /** A keep-alive agent to use instead of a one-shot connection. */
  agent?: Agent;
}

export interface CallResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Parsed JSON body (undefined when empty). */
  json: unknown;
}

/** One HTTP exchange; rejects with { name: 'TimeoutError', code: 'ETIMEDOUT' } after timeoutMs. */
export function http(
  method: 'GET' | 'POST',
  url: string,
  o: { headers?: Record<string, string>; body?: string; timeoutMs?: number; agent?: Agent } = {},
): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: o.headers, agent: o.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: text === '' ? undefined : (JSON.parse(text) as unknown),
        });
      });
    });
    const timer = setTimeout(() => {
      req.destroy(
        Object.assign(new Error('request timed out'), { name: 'TimeoutError', code: 'ETIMEDOUT' }),
      );
    }, o.timeoutMs ?? 5_000);
    req.on('close', () => {
      clearTimeout(timer);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

export function call(
  sim: Simulator,
  method: 'GET' | 'POST',
  path: string,
  o: CallOptions = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...o.headers };
  const key = o.key === undefined ? ROOT_KEY : o.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (o.idem !== undefined) headers['idempotency-key'] = o.idem;
  return http(method, `${sim.url}${path}`, {
    headers,
    body: o.body,
    timeoutMs: o.timeoutMs,
    agent: o.agent,
  });
}

export const get = (sim: Simulator, path: string, o?: CallOptions): Promise<CallResult> =>
  call(sim, 'GET', path, o);
export const post = (sim: Simulator, path: string, o?: CallOptions): Promise<CallResult> =>
  call(sim, 'POST', path, o);

/** Loose accessor for JSON bodies in assertions. */
export interface Envelope {
  ok: boolean;
  data?: Record<string, unknown> & {
    id?: string;
    status?: string;
    is_active?: boolean;
    status_reason?: string | null;
  };
  error?: { code: string; message: string; retryable: boolean; param?: string };
  meta: { request_id: string };
  pagination?: { has_more: boolean; next_cursor?: string };
}

export function envelope(r: CallResult): Envelope {
  return r.json as Envelope;
}

export async function waitFor(cond: () => boolean, timeoutMs = 2_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Rejection of a request, as { name, code }. */
export async function failure(
  p: Promise<unknown>,
): Promise<{ name: string; code: string | undefined }> {
  try {
    await p;
  } catch (e: unknown) {
    const err = e as Error & { code?: string };
    return { name: err.name, code: err.code };
  }
  throw new Error('expected the request to fail');
}

/** RNG returning the given values in order, then 0.99 forever. */
export function sequenceRng(values: number[]): () => number {
  let i = 0;
  return () => values[i++] ?? 0.99;
}

/**
 * One simulator for the whole file, reset before each test (`afterReset` restores anything a
 * reset keeps, such as fault settings) and closed after the file. `bind` receives it.
 */
export function useSimulator(
  options: SimulatorOptions,
  bind: (sim: Simulator) => void,
  afterReset?: (sim: Simulator) => void,
): void {
  let sim: Simulator | undefined;
  beforeAll(async () => {
    sim = await startSimulator(options);
    bind(sim);
  });
  beforeEach(() => {
    if (!sim) return;
    sim.reset();
    afterReset?.(sim);
  });
  afterAll(async () => {
    await sim?.close();
  });
}
