/** The /api/v1 routes (registered with that prefix) and the shared 404 / error handlers. */
import type { FastifyError, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { SimContext } from './context.js';
import { newRequestId } from './envelope.js';
import type { ApiErrorCode } from './envelope.js';
import { gate, sendError, unattributedHeaders } from './http.js';
import type { ListQuery } from './pagination.js';
import { runAction } from './provider-actions.js';
import { getProvider, listDeliveryLogs, listProviders } from './read.js';

export const API_PREFIX = '/api/v1';

export function apiRoutes(ctx: SimContext): FastifyPluginCallback {
  return (app, _opts, done) => {
    // Actions take no body: accept none, an empty one, or anything, with any or no content type.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, next) => {
      next(null, undefined);
    });
    app.get<{ Querystring: ListQuery }>('/providers', (req, reply) => {
      listProviders(ctx, req, reply);
    });
    app.get<{ Params: { public_id: string } }>('/providers/:public_id', (req, reply) => {
      getProvider(ctx, req, reply);
    });
    app.get<{ Querystring: ListQuery }>('/emails/logs', (req, reply) => {
      listDeliveryLogs(ctx, req, reply);
    });
    app.post<{ Params: { public_id: string } }>(
      '/providers/:public_id/deactivate',
      (req, reply) => {
        runAction(ctx, req, reply, 'deactivate');
      },
    );
    app.post<{ Params: { public_id: string } }>('/providers/:public_id/activate', (req, reply) => {
      runAction(ctx, req, reply, 'activate');
    });
    done();
  };
}

/**
 * Unknown routes: under /api/v1 they are authenticated and counted like any API request;
 * elsewhere they are not attributed to a key but still carry the X-RateLimit-* headers.
 */
export function notFound(ctx: SimContext): (req: FastifyRequest, reply: FastifyReply) => void {
  return (req, reply) => {
    const api =
      req.url === API_PREFIX ||
      req.url.startsWith(`${API_PREFIX}/`) ||
      req.url.startsWith(`${API_PREFIX}?`);
    const requestId = newRequestId();
    const g = api
      ? gate(ctx, req, reply)
      : { requestId, headers: unattributedHeaders(ctx, requestId) };
    if (g === undefined) return;
    sendError(reply, g, 404, {
      code: 'not_found',
      message: `No route ${req.method} ${req.url.split('?')[0] ?? ''}`,
      retryable: false,
    });
  };
}

function codeFor(status: number): ApiErrorCode {
  if (status === 413) return 'payload_too_large';
  if (status === 404) return 'not_found';
  return status >= 500 ? 'internal_error' : 'invalid_parameter';
}

/** Errors fastify raises itself (body parsing, limits) or unexpected throws, in the ApiError envelope. */
export function errorHandler(
  ctx: SimContext,
): (error: FastifyError, req: FastifyRequest, reply: FastifyReply) => void {
  return (error, _req, reply) => {
    const raw = error.statusCode ?? 500;
    const status = raw >= 400 && raw < 600 ? raw : 500;
    const requestId = newRequestId();
    const message = status >= 500 ? 'Internal error' : error.message;
    sendError(reply, { requestId, headers: unattributedHeaders(ctx, requestId) }, status, {
      code: codeFor(status),
      message,
      retryable: status >= 500,
    });
  };
}
