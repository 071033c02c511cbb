/**
 * Sendmux Management API client: got for reads and lists, a plain node:http request for the
 * action calls, the worker's hot path (see plain-request.ts for why and what was measured).
 * Both answer the same way: every answer parsed (zod schemas, or leniently for one account),
 * every failure one {@link SendmuxError}. Neither retries: the queue owns retries so they
 * survive restarts. Its interface and options are in client-types.ts, the mapping of a failed
 * call to its error in failures.ts.
 */
import http from 'node:http';
import https from 'node:https';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import got, { type Got } from 'got';
import type { z } from 'zod';
import { API_ROUTES, observeApiCall, type ApiOperation } from '../metrics/metrics.js';
import type { Action } from '../model.js';
import { readAccountAnswer, type AccountAnswer } from './account-answer.js';
import type {
  ApiResult,
  CallOptions,
  SendmuxClient,
  SendmuxClientOptions,
} from './client-types.js';
import { SendmuxError } from './errors.js';
import { headerValue, httpError, parseJson, transportError } from './failures.js';
import { CursorGuard } from './pagination.js';
import { plainRequest, type PlainResponse } from './plain-request.js';
import { parseRateLimit } from './rate-limit-headers.js';
import {
  deliveryLogListResponseSchema,
  providerItemResponseSchema,
  providerListResponseSchema,
} from './schemas.js';

export type {
  ApiResult,
  CallOptions,
  DeliveryLogFilter,
  DeliveryLogListOptions,
  DeliveryLogSearchOptions,
  ListFilter,
  SendmuxClient,
  SendmuxClientOptions,
} from './client-types.js';

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
      const guard = new CursorGuard('GET /providers', opts.maxPages);
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
        cursor = guard.next(
          body.pagination.has_more ? (body.pagination.next_cursor ?? undefined) : undefined,
        );
      } while (cursor !== undefined);
    },
    async *listDeliveryLogs(filter = {}, opts = {}) {
      const guard = new CursorGuard('GET /emails/logs', opts.maxPages);
      let cursor: string | undefined;
      do {
        const searchParams: Record<string, string> = { limit: String(filter.limit ?? 100) };
        if (filter.fromDate !== undefined) searchParams.from_date = filter.fromDate;
        if (filter.toDate !== undefined) searchParams.to_date = filter.toDate;
        if (filter.providerId !== undefined) searchParams.provider_id = filter.providerId;
        if (filter.status !== undefined) searchParams.status = filter.status;
        if (cursor !== undefined) searchParams.cursor = cursor;
        await opts.beforeRequest?.();
        const { body, response } = await call('GET', 'emails/logs', deliveryLogListResponseSchema, {
          searchParams,
          signal: opts.signal,
          kind: { op: 'search_logs' },
        });
        await opts.afterResponse?.(parseRateLimit(response.headers));
        yield* body.data;
        cursor = guard.next(
          body.pagination.has_more ? (body.pagination.next_cursor ?? undefined) : undefined,
        );
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
