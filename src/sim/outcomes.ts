/**
 * How an action request ends when it does not simply answer: a fault step that does not
 * execute (error status, dropped connection, hang), an executed answer that is lost, or a
 * response held back by latency / a delay step.
 */
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import type { SimContext } from './context.js';
import type { SimResponse } from './envelope.js';
import { sendError } from './http.js';
import type { Gate } from './http.js';
import type { IdempotencyEntry } from './idempotency.js';
import type { SimStep } from './types.js';

/** Steps that answer without executing and are not cached. */
export type UnexecutedStep = Extract<SimStep, { kind: 'status' | 'drop' | 'hang' }>;

export function isUnexecuted(step: SimStep): step is UnexecutedStep {
  return step.kind === 'status' || step.kind === 'drop' || step.kind === 'hang';
}

type StatusStep = Extract<SimStep, { kind: 'status' }>;

function statusFault(ctx: SimContext, g: Gate, reply: FastifyReply, step: StatusStep): void {
  const retryAfter =
    step.retryAfterS ??
    (step.status === 503 ? ctx.faults.current.retryAfter503S : step.status === 429 ? 1 : undefined);
  if (retryAfter !== undefined) g.headers['retry-after'] = String(retryAfter);
  const retryable = step.retryable ?? true;
  if (step.status === 500 || step.status === 502) {
    ctx.stats.faults[step.status === 500 ? 'error500' : 'error502']++;
    const what = step.status === 500 ? 'internal error' : 'bad gateway';
    sendError(reply, g, step.status, {
      code: 'internal_error',
      message: `Simulated ${what}`,
      retryable,
    });
  } else if (step.status === 503) {
    ctx.stats.faults.error503++;
    sendError(reply, g, 503, {
      code: 'service_unavailable',
      message: 'Simulated service unavailable',
      retryable,
    });
  } else {
    ctx.stats.rateLimited++;
    sendError(reply, g, 429, {
      code: 'rate_limit_exceeded',
      message: 'Simulated rate limit',
      retryable,
    });
  }
}

/** Answers a fault step (status / drop / hang) without executing. */
export function fault(
  ctx: SimContext,
  g: Gate,
  socket: Socket,
  reply: FastifyReply,
  step: UnexecutedStep,
): void {
  if (step.kind === 'drop') {
    ctx.stats.faults.drop++;
    reply.hijack();
    socket.destroy();
    return;
  }
  if (step.kind === 'hang') {
    ctx.stats.faults.hang++;
    reply.hijack();
    return;
  }
  statusFault(ctx, g, reply, step);
}

/**
 * "Executed, answer lost": the caller has executed and cached the answer; it is never sent.
 * `drop` resets the connection, `hang` keeps it open without a byte (the client times out).
 */
export function lost(
  ctx: SimContext,
  socket: Socket,
  reply: FastifyReply,
  mode: 'drop' | 'hang',
): void {
  ctx.stats.faults.lost++;
  reply.hijack();
  if (mode === 'drop') socket.destroy();
}

/**
 * Holds an already computed response for `ms`. The key stays in flight until the answer is
 * written, for the whole delay, even if the client goes away meanwhile (a real server
 * finishes its work): a retry meanwhile gets 409 idempotency_conflict, and after the delay
 * it gets the cached replay.
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
    if (entry !== undefined) ctx.idempotency.complete(entry, res, ctx.now());
    if (raw.destroyed || raw.writableEnded) return;
    raw.writeHead(res.status, {
      ...res.headers,
      'content-length': String(Buffer.byteLength(res.body)),
    });
    raw.end(res.body);
  }, ms);
  ctx.timers.add(timer);
}
