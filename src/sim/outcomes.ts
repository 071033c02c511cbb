/**
 * How an action request ends when it does not simply answer: a fault step (error status,
 * dropped connection, hang), or a response held back by latency / a delay step.
 */
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import type { SimContext } from './context.js';
import type { SimResponse } from './envelope.js';
import { sendError } from './http.js';
import type { Gate } from './http.js';
import type { IdempotencyEntry } from './idempotency.js';
import type { SimStep } from './types.js';

/** Answers a fault step (status / drop / hang) without executing. */
export function fault(
  ctx: SimContext,
  g: Gate,
  socket: Socket,
  reply: FastifyReply,
  step: Exclude<SimStep, { kind: 'delay' }>,
): void {
  if (step.kind === 'drop') {
    ctx.stats.drop++;
    reply.hijack();
    socket.destroy();
    return;
  }
  if (step.kind === 'hang') {
    ctx.stats.hang++;
    reply.hijack();
    return;
  }
  const retryAfter =
    step.retryAfterS ??
    (step.status === 503 ? ctx.faults.current.retryAfter503S : step.status === 429 ? 1 : undefined);
  if (retryAfter !== undefined) g.headers['retry-after'] = String(retryAfter);
  if (step.status === 500) {
    ctx.stats.error500++;
    sendError(reply, g, 500, {
      code: 'internal_error',
      message: 'Simulated internal error',
      retryable: true,
    });
  } else if (step.status === 503) {
    ctx.stats.error503++;
    sendError(reply, g, 503, {
      code: 'service_unavailable',
      message: 'Simulated service unavailable',
      retryable: true,
    });
  } else {
    ctx.stats.rateLimited++;
    sendError(reply, g, 429, {
      code: 'rate_limit_exceeded',
      message: 'Simulated rate limit',
      retryable: true,
    });
  }
}

/**
 * Holds an already computed response for `ms`. The request stays in flight for the whole
 * delay even if the client goes away (a real server finishes its work): a retry meanwhile
 * gets 409 idempotency_conflict, and after the delay it gets the cached replay.
 */
export function delayed(
  ctx: SimContext,
  reply: FastifyReply,
  res: SimResponse,
  entry: IdempotencyEntry | undefined,
  ms: number,
): void {
  reply.hijack();
  const raw = reply.raw;
  const timer = setTimeout(() => {
    ctx.timers.delete(timer);
    if (entry !== undefined) ctx.idempotency.complete(entry, res, Date.now());
    if (raw.destroyed || raw.writableEnded) return;
    raw.writeHead(res.status, {
      ...res.headers,
      'content-length': String(Buffer.byteLength(res.body)),
    });
    raw.end(res.body);
  }, ms);
  ctx.timers.add(timer);
}
