/**
 * Unauthenticated admin routes under /__sim, for tests and other processes:
 * GET /__sim/stats, GET|POST /__sim/faults, POST /__sim/script, GET|POST /__sim/auth,
 * POST /__sim/delivery-logs, POST /__sim/reset, GET /__sim/log (the execution log),
 * POST /__sim/accounts/:id/state (a change made outside: `{ status: 'active' | 'inactive' }`),
 * POST /__sim/accounts/:id/readable (`{ readable: false }`: GET /providers/:id answers 500).
 */
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { SimContext } from './context.js';
import { addDeliveryLogs, simDeliveryLogsBodySchema } from './delivery-logs.js';
import { simAuthSchema, simFaultsPatchSchema, simScriptSchema } from './faults.js';
import type { ProviderItem, SimSettableStatus } from './types.js';

const simStateSchema = z.strictObject({ status: z.enum(['active', 'inactive']) });
const simReadableSchema = z.strictObject({ readable: z.boolean() });

function noAccount(reply: FastifyReply, id: string): void {
  void reply.code(404).send({
    ok: false,
    error: { code: 'not_found', message: `Sending account ${id} not found`, retryable: false },
  });
}

export const ADMIN_PREFIX = '/__sim';

function badRequest(reply: FastifyReply, error: z.ZodError): void {
  void reply.code(400).send({
    ok: false,
    error: { code: 'invalid_parameter', message: z.prettifyError(error), retryable: false },
  });
}

export function adminRoutes(ctx: SimContext, reset: () => void): FastifyPluginCallback {
  return (app, _opts, done) => {
    // Lenient JSON: an empty body is "no body" whatever the content type.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, next) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') {
        next(null, undefined);
        return;
      }
      try {
        next(null, JSON.parse(text) as unknown);
      } catch {
        next(Object.assign(new Error('Body is not valid JSON'), { statusCode: 400 }), undefined);
      }
    });
    app.addHook('onSend', (_req, reply, payload, next) => {
      void reply.header('cache-control', 'no-store');
      next(null, payload);
    });
    app.get('/stats', (_req, reply) => {
      void reply.send(ctx.stats.snapshot());
    });
    app.get('/faults', (_req, reply) => {
      void reply.send({ ok: true, data: ctx.faults.current });
    });
    app.post('/faults', (req, reply) => {
      const parsed = simFaultsPatchSchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        badRequest(reply, parsed.error);
        return;
      }
      ctx.faults.set(parsed.data);
      void reply.send({ ok: true, data: ctx.faults.current });
    });
    app.post('/script', (req, reply) => {
      const parsed = simScriptSchema.safeParse(req.body);
      if (!parsed.success) {
        badRequest(reply, parsed.error);
        return;
      }
      ctx.faults.script(parsed.data.provider_id, parsed.data.steps);
      void reply.send({ ok: true });
    });
    app.get('/auth', (_req, reply) => {
      void reply.send({ ok: true, data: { revoked: ctx.auth.revoked } });
    });
    app.post('/auth', (req, reply) => {
      const parsed = simAuthSchema.safeParse(req.body);
      if (!parsed.success) {
        badRequest(reply, parsed.error);
        return;
      }
      ctx.auth.revoked = parsed.data.revoked;
      void reply.send({ ok: true, data: { revoked: ctx.auth.revoked } });
    });
    // { items: [{ provider_id, message_id, ...optional DeliveryLogItem fields }] } -> the stored logs.
    app.post('/delivery-logs', (req, reply) => {
      const parsed = simDeliveryLogsBodySchema.safeParse(req.body);
      if (!parsed.success) {
        badRequest(reply, parsed.error);
        return;
      }
      const added = addDeliveryLogs(ctx, parsed.data.items);
      if (!added.ok) {
        void reply.code(400).send({
          ok: false,
          error: { code: 'invalid_parameter', message: added.message, retryable: false },
        });
        return;
      }
      void reply.send({ ok: true, data: added.items });
    });
    app.get('/log', (_req, reply) => {
      void reply.send({ ok: true, data: ctx.log.snapshot(), dropped: ctx.log.dropped });
    });
    app.post<{ Params: { id: string } }>('/accounts/:id/state', (req, reply) => {
      const parsed = simStateSchema.safeParse(req.body);
      if (!parsed.success) {
        badRequest(reply, parsed.error);
        return;
      }
      const set = setAccountStatus(ctx, req.params.id, parsed.data.status);
      if (set === undefined) {
        noAccount(reply, req.params.id);
        return;
      }
      void reply.send({ ok: true, data: set.item, changed: set.changed });
    });
    app.post<{ Params: { id: string } }>('/accounts/:id/readable', (req, reply) => {
      const parsed = simReadableSchema.safeParse(req.body);
      if (!parsed.success) {
        badRequest(reply, parsed.error);
        return;
      }
      if (!ctx.accounts.has(req.params.id)) {
        noAccount(reply, req.params.id);
        return;
      }
      ctx.faults.setReadable(req.params.id, parsed.data.readable);
      void reply.send({ ok: true, data: { readable: parsed.data.readable } });
    });
    app.post('/reset', (_req, reply) => {
      reset();
      void reply.send({ ok: true });
    });
    done();
  };
}

/** A change made outside (the admin state route, `Simulator.setAccountStatus`), logged. */
export function setAccountStatus(
  ctx: SimContext,
  id: string,
  status: SimSettableStatus,
): { item: ProviderItem; changed: boolean } | undefined {
  const at = ctx.now();
  const set = ctx.accounts.setStatus(id, status, at);
  if (set === undefined) return undefined;
  ctx.log.outside(at, id, status === 'active' ? 'activate' : 'deactivate', set.changed);
  return { item: structuredClone(set.account.item), changed: set.changed };
}
