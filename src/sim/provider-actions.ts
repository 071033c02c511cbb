/**
 * POST /providers/:public_id/activate and /deactivate: idempotency, faults, execution.
 *
 * Order: auth, rate limit, permission, Idempotency-Key validation, idempotency lookup per
 * (team, endpoint, key) (replay / 409), then the scripted or random step, then execution.
 *
 * - A replay sends the cached answer verbatim: status, headers (X-Request-Id and the
 *   X-RateLimit-* values of the original answer) and body. The limiter still counted it.
 * - `status`, `drop`, `hang` release the in-flight mark without executing (not cached).
 * - `lost` executes, caches the answer, then drops the connection or never answers.
 * - `delay` / latency executes first and caches the answer when it is written, at the end
 *   of the delay, even if the client went away meanwhile (in flight until then).
 * - `conflict` answers 409 without executing; `mutate` rewrites the 200 body. Both cached.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SimContext } from './context.js';
import type { SimResponse } from './envelope.js';
import { execute, scriptedConflict } from './execute.js';
import type { ActionTarget } from './execute.js';
import { gate, send, sendError } from './http.js';
import type { Gate } from './http.js';
import { idempotencyScope } from './idempotency.js';
import type { IdempotencyEntry } from './idempotency.js';
import { delayed, fault, isUnexecuted, lost } from './outcomes.js';
import type { ProviderAction, SimStep } from './types.js';

type ActionRequest = FastifyRequest<{ Params: { public_id: string } }>;

/** Activate/deactivate take no body: the fingerprint of every request is the empty body. */
const NO_BODY = '';

function idempotencyKey(req: ActionRequest): string | undefined {
  const v = req.headers['idempotency-key'];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Rejects read-only keys and bad Idempotency-Keys; true when an answer was sent. */
function refused(reply: FastifyReply, g: Gate, key: string | undefined): boolean {
  if (g.readOnly) {
    sendError(reply, g, 403, {
      code: 'insufficient_permissions',
      message: 'This API key lacks the provider.update permission',
      retryable: false,
    });
    return true;
  }
  if (key !== undefined && (key.length === 0 || key.length > 255)) {
    sendError(reply, g, 400, {
      code: 'invalid_parameter',
      message: 'Idempotency-Key must be 1 to 255 characters',
      retryable: false,
      param: 'Idempotency-Key',
    });
    return true;
  }
  return false;
}

/**
 * Looks the key up. Returns the new in-flight entry, undefined without a key, or null when
 * the request was answered (replay or 409).
 */
function lookup(
  ctx: SimContext,
  reply: FastifyReply,
  g: Gate,
  t: ActionTarget,
): IdempotencyEntry | undefined | null {
  if (t.key === undefined) return undefined;
  const endpoint = `POST /providers/${t.id}/${t.action}`;
  const scope = idempotencyScope(g.teamId, endpoint, t.key);
  const begun = ctx.idempotency.begin(scope, NO_BODY, ctx.now());
  if (begun.kind === 'new') return begun.entry;
  if (begun.kind === 'replay') {
    ctx.stats.replays++;
    send(reply, begun.response);
    return null;
  }
  if (begun.kind === 'in_flight') ctx.stats.inFlightConflicts++;
  const message =
    begun.kind === 'in_flight'
      ? 'A request with this Idempotency-Key is still in progress'
      : 'This Idempotency-Key was already used with a different request body';
  sendError(reply, g, 409, { code: 'idempotency_conflict', message, retryable: false });
  return null;
}

function answer(ctx: SimContext, g: Gate, t: ActionTarget, step: SimStep | undefined): SimResponse {
  if (step?.kind === 'conflict') return scriptedConflict(ctx, g, t);
  return execute(ctx, g, t, step?.kind === 'mutate' ? step.set : undefined);
}

export function runAction(
  ctx: SimContext,
  req: ActionRequest,
  reply: FastifyReply,
  action: ProviderAction,
): void {
  const g = gate(ctx, req, reply);
  if (g === undefined) return;
  const key = idempotencyKey(req);
  if (refused(reply, g, key)) return;
  const t: ActionTarget = { id: req.params.public_id, action, key };
  const entry = lookup(ctx, reply, g, t);
  if (entry === null) return;
  const step = ctx.faults.next(t.id);
  if (step !== undefined && isUnexecuted(step)) {
    if (entry !== undefined) ctx.idempotency.release(entry);
    fault(ctx, g, req.raw.socket, reply, step);
    return;
  }
  const res = answer(ctx, g, t, step);
  if (step?.kind === 'delay' && step.ms > 0) {
    delayed(ctx, reply, res, entry, step.ms);
    return;
  }
  if (entry !== undefined) ctx.idempotency.complete(entry, res, ctx.now());
  if (step?.kind === 'lost') {
    lost(ctx, req.raw.socket, reply, step.mode ?? 'drop');
    return;
  }
  send(reply, res);
}
