/**
 * The admin API's own routes (behind the admin token): thin shells over the library (src/ops),
 * each described by a {@link RouteSpec} so the OpenAPI document shows exactly what is checked.
 * This file puts together the groups in admin/ (and answers `GET /v1/whoami` itself):
 *
 *   actions.ts     POST /v1/actions               switch accounts off or on (manual, with its hold)
 *   accounts.ts    GET  /v1/accounts[/:account]   recorded statuses with holds
 *                  GET  /v1/holds[/:account]      what keeps accounts off
 *                  GET  /v1/events                recent events (?type, ?limit)
 *   batch-runs.ts  POST /v1/batches               start or resume a bulk run (JSON or text/csv upload)
 *   batches.ts     GET  /v1/batches[/:id]         batch records
 *                  GET  /v1/batches/:id/report    one row per account (?format=csv|json)
 *                  POST /v1/batches/:id/cancel    remove what has not started
 *                  POST /v1/batches/:id/undo      switch back on what the run switched off
 *   fields.ts      the zod fields they share
 *
 * The breaker's routes are in breaker-routes.ts, the windows' in window-routes.ts.
 */
import type { FastifyPluginCallback } from 'fastify';
import type { Config } from '../config.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { keysFor } from '../store/keys.js';
import { whoamiSchema, type WhoamiView } from '../wire/service.js';
import {
  getAccount,
  getAccountHolds,
  getAccounts,
  getEvents,
  getHolds,
  registerAccountRoutes,
} from './admin/accounts.js';
import { postActions, registerActionRoutes } from './admin/actions.js';
import { postBatches, registerBatchRunRoutes } from './admin/batch-runs.js';
import {
  getBatchReport,
  getBatchRoute,
  getBatches,
  postBatchCancel,
  postBatchUndo,
  registerBatchRoutes,
} from './admin/batches.js';
import { routeFromSpec, type RouteSpec } from './api-spec.js';
import { requestToken } from './auth.js';

/** `GET /v1/whoami`: which token this is. */
export const getWhoami = {
  method: 'GET',
  path: '/whoami',
  tag: 'service',
  summary: 'The token the request came with: its name (who did what it does) and kind',
  description:
    'Kind `admin` may do everything; `read` (ADMIN_TOKENS kind `read`) only GET and HEAD.',
  responses: { 200: '`{ ok: true, name, kind }`' },
  answers: { 200: whoamiSchema },
} satisfies RouteSpec;

/** Every spec of the admin routes, for the OpenAPI document. */
export const ADMIN_ROUTE_SPECS: readonly RouteSpec[] = [
  getWhoami,
  postActions,
  getAccounts,
  getAccount,
  getHolds,
  getAccountHolds,
  getEvents,
  postBatches,
  getBatches,
  getBatchRoute,
  getBatchReport,
  postBatchCancel,
  postBatchUndo,
];

export function adminRoutes(deps: { config: Config; redis: Redis }): FastifyPluginCallback {
  const { config, redis } = deps;
  const ctx = { config, redis, keys: keysFor(config.prefix) };

  return (app, _opts, done) => {
    // An upload of ids reaches the handler as a stream (text/plain, text/csv), never buffered.
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser(['text/plain', 'text/csv'], (_req, payload, next) => {
      next(null, payload);
    });

    app.get(
      getWhoami.path,
      routeFromSpec(getWhoami, async (_parsed, req, reply) => {
        const token = requestToken(req);
        const answer: WhoamiView = {
          ok: true,
          name: token?.name ?? '',
          kind: token?.kind ?? 'read',
        };
        return reply.send(answer);
      }),
    );

    registerActionRoutes(app, ctx);
    registerAccountRoutes(app, ctx);
    registerBatchRunRoutes(app, ctx);
    registerBatchRoutes(app, ctx);
    done();
  };
}
