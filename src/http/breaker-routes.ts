/**
 * The breaker over HTTP (admin routes, behind the admin token): thin shells over the breaker
 * that `serve` runs (ops/breaker-service.ts).
 *
 *   POST /v1/signals                   { id, account_id, outcome, bounce_type?, occurred_at }
 *                                      or an array of them (at most 1,000) -> results, in order
 *   GET  /v1/breakers                  every account with breaker activity
 *   GET  /v1/breakers/:account         state, counts and rates over the window, last trip, holds
 *   POST /v1/breakers/:account/trip    { reason? } -> 200 tripped | 409 state_conflict (open already)
 *   POST /v1/breakers/:account/reset   -> 200 reset | 409 state_conflict (not open)
 *   GET  /v1/breaker/mode              the default mode and accounts with a mode of their own
 *   PUT  /v1/breaker/mode              { mode: act|warn|watch|null, account_id | default: true }
 *                                      -> the change (`breaker.mode_changed` with the actor)
 *   GET  /v1/webhooks/stats            what became of processed webhook events; latest unresolved
 *                                      and ambiguous ones (with their candidate accounts)
 */
import type { FastifyPluginCallback } from 'fastify';
import { z } from 'zod';
import { ACCOUNT_ID_RULE, ACCOUNT_ID_RULE_TEXT, BREAKER_MODES } from '../model.js';
import type { BreakerService } from '../ops/breaker-service.js';
import { breakerRefusal } from '../ops/breaker.js';
import {
  breakerModesView,
  breakerView,
  modeChangeView,
  resetView,
  signalResultView,
  tripView,
  webhookStatsView,
} from '../wire/index.js';
import { issueText } from './api-spec.js';
import { requestActor } from './auth.js';
import { sendError } from './errors.js';

/** Signals per POST /v1/signals. */
export const MAX_SIGNALS_PER_REQUEST = 1_000;

export const accountParams = z.object({
  account: z.string().regex(ACCOUNT_ID_RULE, { error: ACCOUNT_ID_RULE_TEXT }),
});
export const tripBody = z
  .object({ reason: z.string().max(500, { error: 'must be at most 500 characters' }).optional() })
  .optional();
/** `PUT /v1/breaker/mode`: an account's run-time mode, or the default's; null clears it. */
export const modeBody = z
  .strictObject({
    mode: z
      .enum(BREAKER_MODES, {
        error: 'must be act, warn, watch, or null (clears the run-time mode)',
      })
      .nullable(),
    account_id: z.string().regex(ACCOUNT_ID_RULE, { error: ACCOUNT_ID_RULE_TEXT }).optional(),
    default: z.literal(true, { error: 'must be true (the default mode)' }).optional(),
  })
  .refine((b) => (b.account_id === undefined) !== (b.default === undefined), {
    error: 'give either account_id (one account) or "default": true, not both',
    path: ['account_id'],
  });

export const limitQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100_000).optional(),
});

export function breakerRoutes(service: BreakerService): FastifyPluginCallback {
  const { breaker } = service;
  return (app, _opts, done) => {
    app.post('/signals', async (req, reply) => {
      const many = Array.isArray(req.body);
      const items: unknown[] = many ? (req.body as unknown[]) : [req.body];
      if (items.length === 0 || items.length > MAX_SIGNALS_PER_REQUEST) {
        return sendError(
          reply,
          'invalid_input',
          `body: 1..${MAX_SIGNALS_PER_REQUEST} signals per request`,
        );
      }
      // Each signal is checked when counted; a bad one is refused with its index and field,
      // after the good ones before it were counted (each is its own idempotent step).
      const results = [];
      for (const [i, item] of items.entries()) {
        try {
          results.push(signalResultView(await breaker.signal(item)));
        } catch (err) {
          if (err instanceof Error && err.name === 'IntentValidationError') {
            return sendError(
              reply,
              'invalid_input',
              `${many ? `item ${i + 1}: ` : ''}${err.message.replace(/^invalid intent: /, '')}`,
            );
          }
          throw err;
        }
      }
      return reply.send(many ? { results } : results[0]);
    });

    app.get('/breakers', async (req, reply) => {
      const q = limitQuery.safeParse(req.query);
      if (!q.success) return sendError(reply, 'invalid_input', issueText(q.error, 'query'));
      const ids = await breaker.list(q.data.limit ?? 1000);
      const statuses = await Promise.all(ids.map((id) => breaker.status(id)));
      return reply.send({ accounts: statuses.map(breakerView) });
    });

    app.get('/breakers/:account', async (req, reply) => {
      const p = accountParams.safeParse(req.params);
      if (!p.success) return sendError(reply, 'invalid_input', issueText(p.error, 'params'));
      return reply.send(breakerView(await breaker.status(p.data.account)));
    });

    app.post('/breakers/:account/trip', async (req, reply) => {
      const p = accountParams.safeParse(req.params);
      if (!p.success) return sendError(reply, 'invalid_input', issueText(p.error, 'params'));
      const b = tripBody.safeParse(req.body ?? undefined);
      if (!b.success) return sendError(reply, 'invalid_input', issueText(b.error, 'body'));
      const r = await breaker.trip(p.data.account, b.data?.reason, requestActor(req) ?? undefined);
      if (r.result !== 'tripped') throw breakerRefusal(p.data.account, 'trip');
      return reply.send(tripView(p.data.account, r));
    });

    app.post('/breakers/:account/reset', async (req, reply) => {
      const p = accountParams.safeParse(req.params);
      if (!p.success) return sendError(reply, 'invalid_input', issueText(p.error, 'params'));
      const r = await breaker.reset(p.data.account, requestActor(req) ?? undefined);
      if (r.result !== 'reset') throw breakerRefusal(p.data.account, 'reset');
      return reply.send(resetView(p.data.account, r));
    });

    app.get('/breaker/mode', async (_req, reply) =>
      reply.send(breakerModesView(await breaker.modes())),
    );

    app.put('/breaker/mode', async (req, reply) => {
      const b = modeBody.safeParse(req.body ?? undefined);
      if (!b.success) return sendError(reply, 'invalid_input', issueText(b.error, 'body'));
      const change = await breaker.setMode(
        b.data.account_id ?? null,
        b.data.mode,
        requestActor(req),
      );
      return reply.send(modeChangeView(change));
    });

    app.get('/webhooks/stats', async (_req, reply) =>
      reply.send(webhookStatsView(await service.webhookStats())),
    );
    done();
  };
}
