/**
 * POST /providers/:public_id/activate and /deactivate: idempotency, faults, execution.
 *
 * Order: auth, rate limit, permission, Idempotency-Key validation, idempotency lookup
 * (replay / 409), then the scripted or random step, then execution. Faults release the
 * in-flight mark without executing. A delayed response is computed (and the operation
 * executed) first; it is cached when the response is written or when the client goes away,
 * whichever comes first, so a retry after a client crash is replayed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SimContext } from './context.js';
import { itemBody } from './envelope.js';
import type { SimResponse } from './envelope.js';
import { errorResponse, gate, send, sendError } from './http.js';
import type { Gate } from './http.js';
import type { IdempotencyEntry } from './idempotency.js';
import { delayed, fault } from './outcomes.js';
import type { ProviderAction } from './types.js';

type ActionRequest = FastifyRequest<{ Params: { public_id: string } }>;

function execute(
  ctx: SimContext,
  g: Gate,
  id: string,
  action: ProviderAction,
  key: string | undefined,
): SimResponse {
  const result = ctx.accounts.apply(id, action, Date.now());
  if (result.kind === 'not_found') {
    return errorResponse(g.requestId, g.headers, 404, {
      code: 'not_found',
      message: `Sending account ${id} not found`,
      retryable: false,
    });
  }
  if (result.kind === 'conflict') {
    const message = `Sending account ${id} cannot be ${action}d in its current state`;
    return errorResponse(g.requestId, g.headers, 409, {
      code: 'conflict',
      message,
      retryable: false,
    });
  }
  ctx.stats.execution(key, id, action);
  return { status: 200, headers: g.headers, body: itemBody(g.requestId, result.account.json) };
}

function idempotencyKey(req: ActionRequest): string | undefined {
  const v = req.headers['idempotency-key'];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function runAction(
  ctx: SimContext,
  req: ActionRequest,
  reply: FastifyReply,
  action: ProviderAction,
): void {
  const g = gate(ctx, req, reply);
  if (g === undefined) return;
  if (g.readOnly) {
    sendError(reply, g, 403, {
      code: 'insufficient_permissions',
      message: 'This API key lacks the provider.update permission',
      retryable: false,
    });
    return;
  }
  const key = idempotencyKey(req);
  if (key !== undefined && (key.length === 0 || key.length > 255)) {
    sendError(reply, g, 400, {
      code: 'invalid_parameter',
      message: 'Idempotency-Key must be 1 to 255 characters',
      retryable: false,
      param: 'Idempotency-Key',
    });
    return;
  }
  const id = req.params.public_id;
  let entry: IdempotencyEntry | undefined;
  if (key !== undefined) {
    const begun = ctx.idempotency.begin(
      `${g.apiKey}\n${key}`,
      `POST /providers/${id}/${action}`,
      Date.now(),
    );
    if (begun.kind === 'replay') {
      ctx.stats.replays++;
      const headers = { ...begun.response.headers };
      for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) {
        const v = g.headers[h];
        if (v !== undefined) headers[h] = v;
      }
      send(reply, { ...begun.response, headers });
      return;
    }
    if (begun.kind !== 'new') {
      if (begun.kind === 'in_flight') ctx.stats.inFlightConflicts++;
      const message =
        begun.kind === 'in_flight'
          ? 'A request with this Idempotency-Key is still in progress'
          : 'This Idempotency-Key was already used for a different request';
      sendError(reply, g, 409, { code: 'idempotency_conflict', message, retryable: false });
      return;
    }
    entry = begun.entry;
  }
  const step = ctx.faults.next(id);
  if (step !== undefined && step.kind !== 'delay') {
    if (entry !== undefined) ctx.idempotency.release(entry);
    fault(ctx, g, req.raw.socket, reply, step);
    return;
  }
  const res = execute(ctx, g, id, action, key);
  if (step !== undefined && step.ms > 0) {
    delayed(ctx, reply, res, entry, step.ms);
    return;
  }
  if (entry !== undefined) ctx.idempotency.complete(entry, res, Date.now());
  send(reply, res);
}
