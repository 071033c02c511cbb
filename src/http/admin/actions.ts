/**
 * POST /v1/actions: switch accounts off or on (manual, with its hold); its spec and its
 * handler, which answers 503 `redis_unavailable` when Redis is down or too slow.
 */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { IDEMPOTENCY_KEY_RULE } from '../../model.js';
import { enqueueActions } from '../../ops/enqueue-actions.js';
import { actionsAnswerSchema, actionsAnswerView } from '../../wire/index.js';
import { routeFromSpec, type RouteSpec } from '../api-spec.js';
import { requestActor } from '../auth.js';
import { redisIsDown, sendUnavailable } from '../errors.js';
import { account, action, strict, text, type RegisterRoutes } from './fields.js';

/** Accounts per POST /v1/actions. */
export const MAX_ACCOUNTS_PER_ACTION = 1_000;

export const postActions = {
  method: 'POST',
  path: '/actions',
  tag: 'actions',
  summary: 'Switch accounts off or on',
  description:
    'Deactivate takes the `manual` hold on each account; activate releases it and is not enqueued for an account other holds keep off (`enqueue: "held"`, `held_by`). Returns once enqueued; follow with GET /v1/accounts/{account} or GET /v1/events.',
  body: strict({
    action,
    accounts: z
      .array(account, { error: 'must be an array of account ids' })
      .min(1, { error: 'must not be empty' })
      .max(MAX_ACCOUNTS_PER_ACTION, {
        error: `must have at most ${MAX_ACCOUNTS_PER_ACTION} accounts`,
      }),
    reason: text(500).optional(),
    idempotency_key: z
      .string({ error: 'must be a string' })
      .regex(IDEMPOTENCY_KEY_RULE, { error: 'must be 1..255 printable ASCII characters' })
      .optional(),
  }).refine((b) => b.idempotency_key === undefined || b.accounts.length === 1, {
    path: ['idempotency_key'],
    error: 'only with exactly one account',
  }),
  responses: {
    202: '`{ reports: [...], repeated: [...], warnings: [...] }`: one report per account.',
    400: 'A field breaks its rule (named in the message).',
    409: 'The idempotency key is bound to another intent.',
    503: '`redis_unavailable` (with `Retry-After`): Redis is not connected, or the request did not finish within HTTP_ACTIONS_TIMEOUT_MS; what was enqueued stays enqueued.',
  },
  answers: { 202: actionsAnswerSchema },
} satisfies RouteSpec;

/** `Retry-After` of a 503 from POST /v1/actions. */
export const ACTIONS_RETRY_AFTER_S = 5;

/** POST /v1/actions could not reach Redis, or not in time: 503 `redis_unavailable`. */
function actionsUnavailable(reply: FastifyReply, why: string): FastifyReply {
  return sendUnavailable(
    reply,
    'redis_unavailable',
    `Redis is unreachable or too slow (${why}): the actions may not all be enqueued; ask again (with the same idempotency_key, the answer says what was done)`,
    ACTIONS_RETRY_AFTER_S,
  );
}

export const registerActionRoutes: RegisterRoutes = (app, { config, redis }) => {
  app.post(
    postActions.path,
    routeFromSpec(postActions, async ({ body }, req, reply) => {
      // Redis not connected: refused at once. Connected but too slow (frozen, overloaded):
      // refused after HTTP_ACTIONS_TIMEOUT_MS, the run aborted; what it enqueued stays, and
      // asking again with the same idempotency_key answers its state.
      if (redisIsDown(redis)) return actionsUnavailable(reply, `Redis is ${redis.status}`);
      const limit = new AbortController();
      const timer = setTimeout(() => {
        limit.abort(new Error(`POST /v1/actions: not done within ${config.actionsTimeoutMs} ms`));
      }, config.actionsTimeoutMs);
      let result: Awaited<ReturnType<typeof enqueueActions>> | undefined;
      try {
        const run = enqueueActions(config, {
          action: body.action,
          accountIds: body.accounts,
          key: body.idempotency_key,
          reason: body.reason,
          actor: requestActor(req) ?? undefined,
          signal: limit.signal,
        });
        // The run stops at its next check of the signal; the answer does not wait for it.
        const stopped = new Promise<never>((_resolve, reject) => {
          limit.signal.addEventListener('abort', () => {
            reject(limit.signal.reason as Error);
          });
        });
        result = await Promise.race([run, stopped]);
      } catch (err) {
        // Redis went away meanwhile: a 503 too, not a 500.
        if (!limit.signal.aborted && !redisIsDown(redis)) throw err;
      } finally {
        clearTimeout(timer);
      }
      if (result === undefined) {
        const why = limit.signal.aborted
          ? `not done within HTTP_ACTIONS_TIMEOUT_MS, ${config.actionsTimeoutMs} ms`
          : `Redis is ${redis.status}`;
        return actionsUnavailable(reply, why);
      }
      return reply.code(202).send(actionsAnswerView(result));
    }),
  );
};
