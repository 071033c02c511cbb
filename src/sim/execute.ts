/**
 * The answer of an action request that reaches the account: executed (200, 404, 409 conflict
 * from the account's state), or a scripted `conflict` (409 without executing), optionally
 * with a `mutate` step rewriting fields of `data` in a 200 body.
 */
import type { SimContext } from './context.js';
import { itemBody } from './envelope.js';
import type { SimResponse } from './envelope.js';
import { errorResponse } from './http.js';
import type { Gate } from './http.js';
import type { ProviderAction } from './types.js';

export interface ActionTarget {
  readonly id: string;
  readonly action: ProviderAction;
  /** The Idempotency-Key, if any (for stats). */
  readonly key: string | undefined;
}

function conflict(g: Gate, t: ActionTarget): SimResponse {
  return errorResponse(g.requestId, { ...g.headers }, 409, {
    code: 'conflict',
    message: `Sending account ${t.id} cannot be ${t.action}d in its current state`,
    retryable: false,
  });
}

/** A scripted 409 `conflict`: nothing executes. */
export function scriptedConflict(ctx: SimContext, g: Gate, t: ActionTarget): SimResponse {
  ctx.stats.faults.conflict++;
  return conflict(g, t);
}

/**
 * Executes the action. With `set` (a mutate step), a 200 body's `data` gets these fields
 * overwritten or added (off-contract on purpose); the stored account is not affected.
 */
export function execute(
  ctx: SimContext,
  g: Gate,
  t: ActionTarget,
  set?: Readonly<Record<string, unknown>>,
): SimResponse {
  const headers = { ...g.headers };
  const result = ctx.accounts.apply(t.id, t.action, ctx.now());
  if (result.kind === 'not_found') {
    return errorResponse(g.requestId, headers, 404, {
      code: 'not_found',
      message: `Sending account ${t.id} not found`,
      retryable: false,
    });
  }
  if (result.kind === 'conflict') return conflict(g, t);
  ctx.stats.execution(t.key, t.id, t.action, result.changed);
  ctx.log.execution(ctx.now(), t.key, t.id, t.action, result.changed);
  let json = result.account.json;
  if (set !== undefined) {
    ctx.stats.faults.mutate++;
    json = JSON.stringify({ ...result.account.item, ...set });
  }
  return { status: 200, headers, body: itemBody(g.requestId, json) };
}
