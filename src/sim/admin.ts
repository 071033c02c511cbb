/**
 * Unauthenticated admin routes under /__sim, for tests and other processes:
 * GET /__sim/stats, GET|POST /__sim/faults, POST /__sim/script, GET|POST /__sim/auth,
 * POST /__sim/delivery-logs, POST /__sim/reset.
 */
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { SimContext } from './context.js';
import { addDeliveryLogs, simDeliveryLogsBodySchema } from './delivery-logs.js';
import { simAuthSchema, simFaultsPatchSchema, simScriptSchema } from './faults.js';

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
    app.post('/reset', (_req, reply) => {
      reset();
      void reply.send({ ok: true });
    });
    done();
  };
}
