/** GET /providers, GET /providers/:public_id and GET /emails/logs. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SimContext } from './context.js';
import { itemBody, listBody } from './envelope.js';
import { gate, send, sendError } from './http.js';
import type { Gate } from './http.js';
import { encodeCursor, etagMatches, parseListQuery, parseLogQuery } from './pagination.js';
import type { ListQuery } from './pagination.js';

export function listProviders(
  ctx: SimContext,
  req: FastifyRequest<{ Querystring: ListQuery }>,
  reply: FastifyReply,
): void {
  const g = gate(ctx, req, reply);
  if (g === undefined) return;
  if (ctx.faults.readFails()) {
    readFault(ctx, reply, g);
    return;
  }
  const parsed = parseListQuery(req.query, ctx.accounts);
  if (!parsed.ok) {
    invalidParameter(reply, g, parsed);
    return;
  }
  sendPage(reply, g, ctx.accounts.page(parsed.query));
}

/** A failed read (readError500Rate, an unreadable account): 500 internal_error, retryable. */
function readFault(ctx: SimContext, reply: FastifyReply, g: Gate): void {
  ctx.stats.faults.error500++;
  sendError(reply, g, 500, {
    code: 'internal_error',
    message: 'Simulated internal error (read)',
    retryable: true,
  });
}

/** 400 invalid_parameter for a query that failed its parse. */
function invalidParameter(
  reply: FastifyReply,
  g: Gate,
  parsed: { message: string; param: string },
): void {
  sendError(reply, g, 400, {
    code: 'invalid_parameter',
    message: parsed.message,
    retryable: false,
    param: parsed.param,
  });
}

/** A list page: the items' JSON, and a cursor naming the last one when there is more. */
function sendPage(
  reply: FastifyReply,
  g: Gate,
  page: { items: readonly { item: { id: string }; json: string }[]; hasMore: boolean },
): void {
  const last = page.items[page.items.length - 1];
  const next = page.hasMore && last !== undefined ? encodeCursor(last.item.id) : undefined;
  const body = listBody(
    g.requestId,
    page.items.map((a) => a.json),
    page.hasMore,
    next,
  );
  send(reply, { status: 200, headers: g.headers, body });
}

/** Delivery logs, newest first, filtered by provider_id, status and search. */
export function listDeliveryLogs(
  ctx: SimContext,
  req: FastifyRequest<{ Querystring: ListQuery }>,
  reply: FastifyReply,
): void {
  const g = gate(ctx, req, reply);
  if (g === undefined) return;
  const parsed = parseLogQuery(req.query, ctx.logs);
  if (!parsed.ok) {
    invalidParameter(reply, g, parsed);
    return;
  }
  sendPage(reply, g, ctx.logs.page(parsed.query));
}

export function getProvider(
  ctx: SimContext,
  req: FastifyRequest<{ Params: { public_id: string } }>,
  reply: FastifyReply,
): void {
  const g = gate(ctx, req, reply);
  if (g === undefined) return;
  const id = req.params.public_id;
  if (ctx.faults.readFails(id)) {
    readFault(ctx, reply, g);
    return;
  }
  const account = ctx.accounts.get(id);
  if (account === undefined) {
    sendError(reply, g, 404, {
      code: 'not_found',
      message: `Sending account ${id} not found`,
      retryable: false,
    });
    return;
  }
  g.headers.etag = account.etag;
  if (etagMatches(req.headers['if-none-match'], account.etag)) {
    send(reply, { status: 304, headers: g.headers, body: '' });
    return;
  }
  send(reply, { status: 200, headers: g.headers, body: itemBody(g.requestId, account.json) });
}
