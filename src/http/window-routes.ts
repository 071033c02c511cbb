/**
 * Maintenance windows over HTTP (admin routes, behind the admin token): thin shells over
 * producers/windows (the same checks and answers as the `window` CLI commands).
 *
 *   POST /v1/windows              { accounts: [ids] | filter: "status=...,type=...",
 *                                   start, end | cron, duration, tz?, id?, reason? } -> 201 window
 *   GET  /v1/windows              { windows: [...] } newest first (?limit=1..1000)
 *   GET  /v1/windows/:id          the window, its next starts and its occurrences
 *   POST /v1/windows/:id/cancel   a future window is removed; a running one ends now
 *   POST /v1/windows/:id/extend   { end } -> the window
 *   DELETE /v1/windows/:id        a window that holds nothing is removed (409 while running)
 *
 * A bad field is a 400 naming it (`invalid_input`), an unknown id a 404 `not_found`, a clash (an id
 * in use, extending a cancelled window) a 409 `state_conflict` (the codes: errors.ts).
 */
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import type { Windows } from '../producers/windows/windows.js';
import { windowCancelView, windowDeleteView, windowView } from '../wire/index.js';
import { requestActor } from './auth.js';
import { sendError } from './errors.js';

const text = (max: number) =>
  z.string({ error: 'must be a string' }).max(max, { error: `must be at most ${max} characters` });

export const createBody = z.strictObject(
  {
    id: text(64).optional(),
    accounts: z.array(text(140), { error: 'must be an array of account ids' }).optional(),
    filter: text(200).optional(),
    start: text(64).optional(),
    end: text(64).optional(),
    cron: text(200).optional(),
    duration: text(32).optional(),
    tz: text(64).optional(),
    reason: text(500).optional(),
  },
  {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? 'must be a JSON object'
        : `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
  },
);
export const extendBody = z.object(
  { end: text(64) },
  { error: 'must be a JSON object with "end"' },
);
export const idParams = z.object({ id: text(64) });
export const limitQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() });

function problem(error: z.ZodError, where: string): string {
  const issue = error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  return `${path === '' ? where : path}: ${issue?.message ?? 'invalid'}`;
}

/** The producer's messages name CLI flags (`--start: ...`); here they name the JSON field. */
async function answer(reply: FastifyReply, status: number, work: () => Promise<unknown>) {
  try {
    return await reply.code(status).send(await work());
  } catch (err) {
    if (err instanceof UsageError) {
      const message = err.message.replace(/^--([a-z-]+)/, (_m, flag: string) =>
        flag.replace(/-/g, '_'),
      );
      return sendError(reply, err.code, message);
    }
    throw err;
  }
}

export function windowRoutes(windows: Windows): FastifyPluginCallback {
  return (app, _opts, done) => {
    app.post('/windows', async (req, reply) => {
      const b = createBody.safeParse(req.body ?? undefined);
      if (!b.success) return sendError(reply, 'invalid_input', problem(b.error, 'body'));
      return answer(reply, 201, async () =>
        windowView(await windows.create(b.data, requestActor(req) ?? undefined)),
      );
    });

    app.get('/windows', async (req, reply) => {
      const q = limitQuery.safeParse(req.query);
      if (!q.success) return sendError(reply, 'invalid_input', problem(q.error, 'query'));
      return answer(reply, 200, async () => ({
        windows: (await windows.list(q.data.limit)).map(windowView),
      }));
    });

    app.get('/windows/:id', async (req, reply) => {
      const p = idParams.safeParse(req.params);
      if (!p.success) return sendError(reply, 'invalid_input', problem(p.error, 'params'));
      return answer(reply, 200, async () => windowView(await windows.show(p.data.id)));
    });

    app.post('/windows/:id/cancel', async (req, reply) => {
      const p = idParams.safeParse(req.params);
      if (!p.success) return sendError(reply, 'invalid_input', problem(p.error, 'params'));
      return answer(reply, 200, async () =>
        windowCancelView(await windows.cancel(p.data.id, requestActor(req) ?? undefined)),
      );
    });

    app.delete('/windows/:id', async (req, reply) => {
      const p = idParams.safeParse(req.params);
      if (!p.success) return sendError(reply, 'invalid_input', problem(p.error, 'params'));
      return answer(reply, 200, async () =>
        windowDeleteView(await windows.delete(p.data.id, requestActor(req))),
      );
    });

    app.post('/windows/:id/extend', async (req, reply) => {
      const p = idParams.safeParse(req.params);
      if (!p.success) return sendError(reply, 'invalid_input', problem(p.error, 'params'));
      const b = extendBody.safeParse(req.body ?? undefined);
      if (!b.success) return sendError(reply, 'invalid_input', problem(b.error, 'body'));
      return answer(reply, 200, async () =>
        windowView(await windows.extend(p.data.id, b.data.end)),
      );
    });
    done();
  };
}
