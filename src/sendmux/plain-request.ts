/**
 * One HTTP request on node:http(s), answered as text: what the action calls (the worker's hot
 * path) go through. got serves every other call.
 *
 * Why not got here: measured with `--cpu-prof` and an A/B run of bench/throughput.ts's stub
 * target, got's option normalisation and promise/stream layers cost about 450 µs of CPU per
 * request on a 2-core machine, half of the worker's whole cost per job, more than the two
 * atomic Redis steps that keep the pipeline's promises. The plain request keeps what the client
 * relied on got for: keep-alive agents, a whole-request timeout, an abort signal, no redirects,
 * no retries (the queue owns them).
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

export interface PlainResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface PlainRequestOptions {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  agents: { http: http.Agent; https: https.Agent };
  /** From the start of the request to the end of the answer's body. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Why a request got no complete answer. `code` is Node's (`ECONNRESET`...) or our own. */
export class PlainRequestError extends Error {
  override readonly name = 'PlainRequestError';
  constructor(
    readonly code: string,
    message: string,
    readonly kind: 'timeout' | 'aborted' | 'network',
  ) {
    super(message);
  }
}

export function plainRequest(url: URL, options: PlainRequestOptions): Promise<PlainResponse> {
  const { signal } = options;
  if (signal?.aborted) {
    return Promise.reject(new PlainRequestError('ABORT_ERR', 'request aborted', 'aborted'));
  }
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const headers = { ...options.headers };
    if (options.method === 'POST') headers['content-length'] = '0';
    let settled = false;
    let res: http.IncomingMessage | undefined;

    const fail = (err: PlainRequestError) => {
      if (settled) return;
      settled = true;
      cleanup();
      res?.destroy();
      req.destroy();
      reject(err);
    };
    const onAbort = () => {
      fail(new PlainRequestError('ABORT_ERR', 'request aborted', 'aborted'));
    };
    const timer = setTimeout(() => {
      fail(
        new PlainRequestError(
          'ETIMEDOUT',
          `no complete answer within ${options.timeoutMs} ms`,
          'timeout',
        ),
      );
    }, options.timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };

    const req = (secure ? https : http).request(
      url,
      {
        method: options.method,
        headers,
        agent: secure ? options.agents.https : options.agents.http,
      },
      (response) => {
        res = response;
        response.setEncoding('utf8');
        let body = '';
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => {
          if (settled) return;
          settled = true;
          cleanup();
          resolve({ statusCode: response.statusCode ?? 0, headers: response.headers, body });
        });
        response.on('error', (err: NodeJS.ErrnoException) => {
          fail(new PlainRequestError(err.code ?? 'ECONNRESET', err.message, 'network'));
        });
        response.on('close', () => {
          if (!response.complete) {
            fail(new PlainRequestError('ECONNRESET', 'the answer was cut off', 'network'));
          }
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      fail(new PlainRequestError(err.code ?? 'ECONNRESET', err.message, 'network'));
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}
