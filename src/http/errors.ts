/**
 * Every error answer has one shape, `{ error: { code, message } }`: the code is one of the
 * table in errors.ts, which gives its HTTP status; the message names the field and the rule.
 * The project's own errors keep their code; fastify's own (no such route, a body too large or
 * not JSON, a bad media type, a path segment too long) get theirs from the same table;
 * anything else is a 500 `internal_error` whose details go to the log only.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, errorCodeOf, type ErrorCode } from '../errors.js';
import { ACCOUNT_ID_MAX_LENGTH } from '../model.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** Answer `code` with its status from the table (errors.ts). */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  const body: ErrorBody = { error: { code, message } };
  return reply.code(ERRORS[code].http).send(body);
}

/**
 * 503 with `Retry-After` (whole seconds, at least 1): a refusal to try again later. Sendmux
 * retries a webhook on any non-2xx, so the receiver uses it whenever it cannot store a delivery
 * now (Redis unreachable, the inbox backlog past its cap); POST /v1/actions when Redis is
 * unreachable or too slow.
 */
export function sendUnavailable(
  reply: FastifyReply,
  code: 'redis_unavailable' | 'inbox_full',
  message: string,
  retryAfterS: number,
): FastifyReply {
  void reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterS))));
  return sendError(reply, code, message);
}

/**
 * The connection is known to be down (between reconnection attempts, or closed): a request
 * that needs Redis is refused at once. Still connecting (a process just started, or an attempt
 * under way) is not known to be down: the request tries, within its time limit.
 */
export function redisIsDown(redis: { status: string }): boolean {
  return redis.status === 'reconnecting' || redis.status === 'close' || redis.status === 'end';
}

/**
 * Fastify's errors before any route is found, in the project's shape: a path parameter longer
 * than the router's `maxParamLength` (the longest account id) is a 414 `uri_too_long`; a
 * malformed path a 400 `invalid_input`.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void sendError(
      reply,
      'uri_too_long',
      `path: a path segment must be at most ${ACCOUNT_ID_MAX_LENGTH} characters (the longest account id)`,
    );
    return;
  }
  errorHandler(err, req, reply);
}

/** 404 `not_found` naming the method and path (never the query string). */
export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(
    reply,
    'not_found',
    `${req.method} ${req.url.split('?')[0] ?? ''}: no such route`,
  );
}

/**
 * Fastify's own client errors, by their code; any other 4xx of fastify's (a body that is not
 * JSON, an empty JSON body, a bad Content-Length, a failed schema) is `invalid_input`.
 */
const FRAMEWORK_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
};

export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const projectCode = errorCodeOf(err);
  if (projectCode !== 'internal_error' && ERRORS[projectCode].http < 500) {
    void sendError(reply, projectCode, err.message);
    return;
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = FRAMEWORK_CODES[err.code] ?? 'invalid_input';
    const message =
      code === 'body_too_large' && !err.message.startsWith('body:')
        ? `body: must be at most ${req.routeOptions.bodyLimit} bytes`
        : err.message;
    void sendError(reply, code, message);
    return;
  }
  req.log.error({ err }, 'request failed');
  void sendError(reply, 'internal_error', 'internal error (see the server log)');
}
