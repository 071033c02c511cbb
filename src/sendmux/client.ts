/**
 * Sendmux Management API client: got for reads and lists, a plain node:http request for the
 * action calls, the worker's hot path (see plain-request.ts for why and what was measured).
 * Both answer the same way: every answer parsed (zod schemas, or leniently for one account),
 * every failure one {@link SendmuxError}. Neither retries: the queue owns retries so they
 * survive restarts.
 */
import http from 'node:http';
import https from 'node:https';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import got, { RequestError, type Got } from 'got';
import type { z } from 'zod';
import { API_ROUTES, observeApiCall, type ApiOperation } from '../metrics/metrics.js';
import type { Action } from '../model.js';
import { readAccountAnswer, type AccountAnswer } from './account-answer.js';
import { SendmuxError } from './errors.js';
import { plainRequest, PlainRequestError, type PlainResponse } from './plain-request.js';
import { parseRateLimit, parseRetryAfter, type RateLimitInfo } from './rate-limit-headers.js';
import {
  apiErrorSchema,
  deliveryLogListResponseSchema,
  providerItemResponseSchema,
  providerListResponseSchema,
  type DeliveryLogItem,
  type ProviderItem,
  type ProviderStatus,
  type ProviderType,
} from './schemas.js';

export interface SendmuxClientOptions {
  /** e.g. `https://app.sendmux.ai/api/v1` */
  baseUrl: string;
  apiKey: string;
  /** Whole-request timeout. @defaultValue 10000 */
  timeoutMs?: number;
  /** Keep-alive sockets per origin. @defaultValue 256 */
  maxSockets?: number;
  userAgent?: string;
}

/** A successful answer and what came with it. */
export interface ApiResult<T> {
  data: T;
  status: number;
  requestId: string;
  rateLimit: RateLimitInfo | undefined;
}

export interface CallOptions {
  /** Sent as `Idempotency-Key`; reuse it for every retry of one logical operation. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface ListFilter {
  status?: ProviderStatus;
  type?: ProviderType;
  /** Page size 1..100. @defaultValue 100 */
  limit?: number;
}

export interface DeliveryLogSearchOptions extends CallOptions {
  /** Page size 1..100: only the first page is read. @defaultValue 100 */
  limit?: number;
  /** Runs before the GET (e.g. to spend the shared rate budget). */
  beforeRequest?: () => Promise<void>;
}

export interface SendmuxClient {
  /** POST /providers/{id}/deactivate or /activate. */
  runAction(
    action: Action,
    accountId: string,
    options?: CallOptions,
  ): Promise<ApiResult<AccountAnswer>>;
  deactivate(accountId: string, options?: CallOptions): Promise<ApiResult<AccountAnswer>>;
  activate(accountId: string, options?: CallOptions): Promise<ApiResult<AccountAnswer>>;
  /** GET /providers/{id}, read leniently like an action's answer. */
  readAccount(
    accountId: string,
    options?: { signal?: AbortSignal },
  ): Promise<ApiResult<AccountAnswer>>;
  getProvider(
    accountId: string,
    options?: { signal?: AbortSignal },
  ): Promise<ApiResult<ProviderItem>>;
  /**
   * Every account matching the filter, following cursor pages lazily. `beforeRequest` runs
   * before each page's GET (e.g. to spend the shared rate budget).
   */
  listProviders(
    filter?: ListFilter,
    options?: { signal?: AbortSignal; beforeRequest?: () => Promise<void> },
  ): AsyncIterable<ProviderItem>;
  /**
   * GET /emails/logs?search=: the first page of delivery logs, newest first, whose to_email,
   * from_email, sent_from_email, subject or message_id contains `search` (the API's match, a
   * substring: callers looking for one message id compare `message_id` themselves). A read:
   * no Idempotency-Key is sent (`idempotencyKey` is ignored).
   */
  searchDeliveryLogs(
    search: string,
    options?: DeliveryLogSearchOptions,
  ): Promise<DeliveryLogItem[]>;
  /** Close keep-alive sockets. */
  close(): void;
}

/**
 * Spans of API calls (`sendmux POST /providers/{id}/deactivate`, kind CLIENT): method, status,
 * route template, the account and the request id; never a header. No-ops (and cheap) unless an
 * OpenTelemetry SDK is registered (telemetry/tracing.ts).
 */
const tracer = trace.getTracer('sendmux-deactivator');

/** What one request is, for its metrics and its span. */
interface RequestKind {
  op: ApiOperation;
  /** The account it is about, if one. */
  account?: string;
}

export function createSendmuxClient(options: SendmuxClientOptions): SendmuxClient {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 256 };
  const agent = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const prefixUrl = `${options.baseUrl.replace(/\/+$/, '')}/`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const headers = {
    authorization: `Bearer ${options.apiKey}`,
    accept: 'application/json',
    'user-agent': options.userAgent ?? 'sendmux-deactivator',
  };
  const http_: Got = got.extend({
    prefixUrl,
    headers,
    agent,
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    timeout: { request: timeoutMs },
    responseType: 'text',
  });

  async function request(
    method: 'GET' | 'POST',
    path: string,
    extra: {
      headers?: Record<string, string>;
      searchParams?: Record<string, string>;
      signal?: AbortSignal | undefined;
      kind: RequestKind;
    },
  ): Promise<{ response: PlainResponse; json: unknown }> {
    const { op, account } = extra.kind;
    const started = performance.now();
    const span = tracer.startSpan(`sendmux ${method} ${API_ROUTES[op]}`, {
      kind: SpanKind.CLIENT,
    });
    if (span.isRecording()) {
      span.setAttributes({ 'http.request.method': method, 'url.template': API_ROUTES[op] });
      if (account !== undefined) span.setAttribute('sendmux.account', account);
    }
    let response: PlainResponse;
    try {
      response =
        method === 'POST'
          ? await plainRequest(new URL(path, prefixUrl), {
              method,
              headers: { ...headers, ...extra.headers },
              agents: agent,
              timeoutMs,
              signal: extra.signal,
            })
          : await http_(path, {
              method,
              headers: extra.headers,
              searchParams: extra.searchParams,
              signal: extra.signal,
            });
    } catch (err) {
      const error = transportError(err);
      observeApiCall(op, method, error.code, (performance.now() - started) / 1000);
      endSpan(span, undefined, error);
      throw error;
    }
    observeApiCall(op, method, response.statusCode, (performance.now() - started) / 1000);
    const json = parseJson(response.body);
    if (response.statusCode >= 200 && response.statusCode < 300) {
      endSpan(span, response, undefined);
      return { response, json };
    }
    const error = httpError(response, json, headerValue(response.headers['x-request-id']));
    endSpan(span, response, error);
    throw error;
  }

  /** A 2xx whose body must match `schema`, else it is an `invalid_response` error. */
  async function call<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    extra: Parameters<typeof request>[2],
  ): Promise<{ body: z.infer<S>; response: PlainResponse }> {
    const { response, json } = await request(method, path, extra);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new SendmuxError({
        status: response.statusCode,
        code: 'invalid_response',
        message: `unexpected response body from ${method} ${path}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        requestId: headerValue(response.headers['x-request-id']),
      });
    }
    return { body: parsed.data, response };
  }

  /** A 2xx about one account: never an error, whatever its body looks like. */
  async function callForAccount(
    method: 'GET' | 'POST',
    path: string,
    extra: Parameters<typeof request>[2],
  ): Promise<ApiResult<AccountAnswer>> {
    const { response, json } = await request(method, path, extra);
    const { account, requestId } = readAccountAnswer(json);
    return result(
      account,
      requestId ?? headerValue(response.headers['x-request-id']) ?? '',
      response,
    );
  }

  async function runAction(action: Action, accountId: string, opts: CallOptions = {}) {
    const headers: Record<string, string> = {};
    if (opts.idempotencyKey !== undefined) headers['idempotency-key'] = opts.idempotencyKey;
    return callForAccount('POST', `providers/${encodeURIComponent(accountId)}/${action}`, {
      headers,
      signal: opts.signal,
      kind: { op: action, account: accountId },
    });
  }

  return {
    runAction,
    deactivate: (id, opts) => runAction('deactivate', id, opts),
    activate: (id, opts) => runAction('activate', id, opts),
    readAccount: (id, opts = {}) =>
      callForAccount('GET', `providers/${encodeURIComponent(id)}`, {
        signal: opts.signal,
        kind: { op: 'get', account: id },
      }),
    async getProvider(accountId, opts = {}) {
      const { body, response } = await call(
        'GET',
        `providers/${encodeURIComponent(accountId)}`,
        providerItemResponseSchema,
        { signal: opts.signal, kind: { op: 'get', account: accountId } },
      );
      return result(body.data, body.meta.request_id, response);
    },
    async *listProviders(filter = {}, opts = {}) {
      let cursor: string | undefined;
      do {
        const searchParams: Record<string, string> = { limit: String(filter.limit ?? 100) };
        if (filter.status) searchParams.status = filter.status;
        if (filter.type) searchParams.type = filter.type;
        if (cursor !== undefined) searchParams.cursor = cursor;
        await opts.beforeRequest?.();
        const { body } = await call('GET', 'providers', providerListResponseSchema, {
          searchParams,
          signal: opts.signal,
          kind: { op: 'list' },
        });
        yield* body.data;
        cursor = body.pagination.has_more ? (body.pagination.next_cursor ?? undefined) : undefined;
      } while (cursor !== undefined);
    },
    async searchDeliveryLogs(search, opts = {}) {
      await opts.beforeRequest?.();
      const { body } = await call('GET', 'emails/logs', deliveryLogListResponseSchema, {
        searchParams: { search, limit: String(opts.limit ?? 100) },
        signal: opts.signal,
        kind: { op: 'search_logs' },
      });
      return body.data;
    },
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}

/** End a call's span: its status and request id, and the error's code when it failed. */
function endSpan(span: Span, response: PlainResponse | undefined, error: SendmuxError | undefined) {
  if (span.isRecording()) {
    if (response) {
      span.setAttribute('http.response.status_code', response.statusCode);
      const requestId = error?.requestId ?? headerValue(response.headers['x-request-id']);
      if (requestId) span.setAttribute('sendmux.request_id', requestId);
    }
    if (error) {
      span.setAttribute('error.type', error.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
    }
  }
  span.end();
}

function result<T>(data: T, requestId: string, response: PlainResponse): ApiResult<T> {
  return {
    data,
    status: response.statusCode,
    requestId,
    rateLimit: parseRateLimit(response.headers),
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function httpError(
  response: PlainResponse,
  json: unknown,
  requestIdHeader: string | undefined,
): SendmuxError {
  const now = Date.now();
  const rateLimit = parseRateLimit(response.headers);
  let retryAfterMs = parseRetryAfter(response.headers, now);
  if (response.statusCode === 429 && rateLimit) {
    // Never sooner than either header says.
    retryAfterMs = Math.max(retryAfterMs ?? 0, rateLimit.resetAtMs - now);
  }
  const parsed = apiErrorSchema.safeParse(json);
  if (!parsed.success) {
    return new SendmuxError({
      status: response.statusCode,
      code: response.statusCode >= 500 ? 'internal_error' : 'invalid_response',
      message: `HTTP ${response.statusCode} without a Sendmux error body`,
      requestId: requestIdHeader,
      retryAfterMs,
      rateLimit,
    });
  }
  const { error, meta } = parsed.data;
  return new SendmuxError({
    status: response.statusCode,
    code: error.code,
    message: error.message,
    apiRetryable: error.retryable,
    requestId: meta.request_id,
    retryAfterMs,
    rateLimit,
    param: error.param,
  });
}

/** Network errors, timeouts and resets: no answer, always transient. Carries no request options. */
function transportError(err: unknown): SendmuxError {
  if (err instanceof PlainRequestError) {
    if (err.kind === 'aborted') {
      return new SendmuxError({ status: null, code: 'network_error', message: 'request aborted' });
    }
    const timeout = err.kind === 'timeout';
    return new SendmuxError({
      status: null,
      code: timeout ? 'timeout' : 'network_error',
      message: `${timeout ? 'timeout' : 'network error'}: ${err.code} ${err.message}`,
    });
  }
  if (err instanceof RequestError) {
    const timeout = err.name === 'TimeoutError' || err.code === 'ETIMEDOUT';
    return new SendmuxError({
      status: null,
      code: timeout ? 'timeout' : 'network_error',
      message: `${timeout ? 'timeout' : 'network error'}: ${err.code} ${err.message}`,
    });
  }
  if (err instanceof Error && err.name === 'AbortError') {
    return new SendmuxError({ status: null, code: 'network_error', message: 'request aborted' });
  }
  return new SendmuxError({
    status: null,
    code: 'network_error',
    message: err instanceof Error ? err.message : String(err),
  });
}
