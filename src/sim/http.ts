/**
 * Per-request plumbing shared by the API routes: request id, auth, rate limit, sending.
 * Every API answer carries X-Request-Id, Cache-Control, Content-Type and X-RateLimit-*.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SimContext } from './context.js';
import { baseHeaders, errorBody, newRequestId } from './envelope.js';
import type { ErrorSpec, SimResponse } from './envelope.js';

/** An authenticated, rate-limit-admitted API request. */
export interface Gate {
  readonly requestId: string;
  readonly apiKey: string;
  /** The key's team (the simulator has one): idempotency keys are scoped by it. */
  readonly teamId: string;
  readonly readOnly: boolean;
  /** Response headers so far: X-Request-Id, Cache-Control, Content-Type, X-RateLimit-*. */
  readonly headers: Record<string, string>;
}

export function send(reply: FastifyReply, res: SimResponse): void {
  void reply.code(res.status).headers(res.headers).send(res.body);
}

export function errorResponse(
  requestId: string,
  headers: Record<string, string>,
  status: number,
  e: ErrorSpec,
): SimResponse {
  return { status, headers, body: errorBody(requestId, e) };
}

export function sendError(
  reply: FastifyReply,
  g: Pick<Gate, 'requestId' | 'headers'>,
  status: number,
  e: ErrorSpec,
): void {
  send(reply, errorResponse(g.requestId, g.headers, status, e));
}

/** Headers for an answer not attributed to any key (401, non-API 404, framework errors). */
export function unattributedHeaders(ctx: SimContext, requestId: string): Record<string, string> {
  const headers = baseHeaders(requestId);
  ctx.limiter.preview(ctx.now(), headers);
  return headers;
}

function bearer(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ')
    return undefined;
  const token = header.slice(7).trim();
  return token === '' ? undefined : token;
}

function authFailure(ctx: SimContext, token: string | undefined): string | undefined {
  if (token === undefined) return 'Missing bearer API key';
  if (token !== ctx.config.apiKey && token !== ctx.config.readOnlyApiKey) return 'Invalid API key';
  return ctx.auth.revoked ? 'API key has been revoked' : undefined;
}

/**
 * Counts the request, authenticates it (401, also while the key is switched to revoked) and
 * applies the rate limit for its key (429). Returns undefined when a response has already
 * been sent.
 */
export function gate(ctx: SimContext, req: FastifyRequest, reply: FastifyReply): Gate | undefined {
  ctx.stats.requests++;
  const requestId = newRequestId();
  const token = bearer(req.headers.authorization);
  const failure = authFailure(ctx, token);
  if (failure !== undefined || token === undefined) {
    sendError(reply, { requestId, headers: unattributedHeaders(ctx, requestId) }, 401, {
      code: 'authentication_required',
      message: failure ?? 'Missing bearer API key',
      retryable: false,
    });
    return undefined;
  }
  const headers = baseHeaders(requestId);
  const verdict = ctx.limiter.hit(token, ctx.now(), headers);
  if (!verdict.allowed) {
    ctx.stats.rateLimited++;
    headers['retry-after'] = String(verdict.retryAfterS);
    sendError(reply, { requestId, headers }, 429, {
      code: 'rate_limit_exceeded',
      message: `Rate limit of ${ctx.limiter.limit} requests per ${ctx.limiter.windowMs / 1000}s exceeded`,
      retryable: true,
    });
    return undefined;
  }
  return {
    requestId,
    apiKey: token,
    teamId: ctx.config.teamId,
    readOnly: token !== ctx.config.apiKey,
    headers,
  };
}
