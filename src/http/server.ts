/**
 * The HTTP server (fastify): health, the Sendmux webhook receiver, and the admin API behind
 * the admin bearer token. A factory: it builds the routes on the dependencies it is given and
 * does not listen (`ops/serve.ts` does, and closes it on a signal).
 *
 * Routes (the OpenAPI document at /openapi.json lists every one, openapi.ts):
 *   GET  /healthz             public  { ok: true }
 *   GET  /openapi.json        public  the API's OpenAPI 3.1 document
 *   POST /webhooks/sendmux    public, signed (webhooks.ts)
 *   /v1/actions, /v1/accounts, /v1/holds, /v1/events, /v1/batches   admin (admin-routes.ts)
 *   /v1/signals, /v1/breakers/..., /v1/webhooks/stats   admin (breaker-routes.ts)
 *   /v1/windows/...           admin (window-routes.ts)
 *   GET  /v1/overview         admin: what the status page shows (overview-routes.ts)
 *   GET  /, /status.js, /status.css   admin, browser: the status page (status-page/)
 *   /admin/queues/...         admin, browser: Bull Board (dashboard.ts)
 *   GET  /metrics, /readyz    admin; public: Prometheus metrics, readiness (probe-routes.ts)
 *   ...                       admin: every other path (auth.ts closes what is not public)
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { ACCOUNT_ID_MAX_LENGTH } from '../model.js';
import type { BreakerService } from '../ops/breaker-service.js';
import type { Windows } from '../producers/windows/windows.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { keysFor } from '../store/keys.js';
import { adminRoutes } from './admin-routes.js';
import { PUBLIC_ROUTE, requireAdminToken } from './auth.js';
import { breakerRoutes } from './breaker-routes.js';
import { capConnections, connectionOptions } from './connection-limits.js';
import { dashboard } from './dashboard.js';
import { errorHandler, frameworkErrors, notFoundHandler } from './errors.js';
import { openApiDocument } from './openapi.js';
import { overviewRoutes } from './overview-routes.js';
import { probeRoutes } from './probe-routes.js';
import { statusPage } from './status-page/index.js';
import { webhookRoutes } from './webhooks.js';
import { windowRoutes } from './window-routes.js';

export interface ServerDeps {
  config: Config;
  /** For short commands only (no blocking reads). */
  redis: Redis;
  logger: Logger;
  /** The breaker `serve` runs: its admin routes are served when it is given. */
  breaker?: BreakerService;
  /** Maintenance windows: their admin routes are served when given. */
  windows?: Windows;
}

export type HttpServer = FastifyInstance;

/** Prefix of the admin API. */
export const ADMIN_PREFIX = '/v1';

export async function buildServer(deps: ServerDeps): Promise<HttpServer> {
  const { config, redis, logger } = deps;
  const keys = keysFor(config.prefix);
  // Seen as fastify's logger type, so the instance is the plain FastifyInstance.
  const loggerInstance: FastifyBaseLogger = logger;
  const app = Fastify({
    loggerInstance,
    // No line per request at info (a webhook spike would flood the log); one at debug below,
    // with the method, the path and the status only: never a header.
    logController: new LogController({ disableRequestLogging: true }),
    // Bodies of the admin API; the webhook receiver has its own limit.
    bodyLimit: 1_048_576,
    // A slow or idle client holds a connection for a bounded time (connection-limits.ts).
    ...connectionOptions(config),
    // Path parameters up to the longest account id; a longer one is a 414 in the project's
    // error shape (frameworkErrors), before any route (and so before the admin token).
    routerOptions: { maxParamLength: ACCOUNT_ID_MAX_LENGTH },
    frameworkErrors,
  });
  // One more connection than HTTP_MAX_CONNECTIONS is closed as soon as it opens.
  capConnections(app, config, logger);

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onResponse', (req, reply, done) => {
    req.log.debug(
      {
        method: req.method,
        path: req.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
    done();
  });
  requireAdminToken(app, config);

  app.get('/healthz', { config: PUBLIC_ROUTE }, (_req, reply) => reply.send({ ok: true }));
  await app.register(webhookRoutes({ config, redis, keys }));
  const apiDocument = openApiDocument(ADMIN_PREFIX);
  app.get('/openapi.json', { config: PUBLIC_ROUTE }, (_req, reply) => reply.send(apiDocument));
  await app.register(adminRoutes({ config, redis }), { prefix: ADMIN_PREFIX });
  if (deps.breaker) await app.register(breakerRoutes(deps.breaker), { prefix: ADMIN_PREFIX });
  if (deps.windows) await app.register(windowRoutes(deps.windows), { prefix: ADMIN_PREFIX });
  const overview = { config, redis, windows: deps.windows, breaker: deps.breaker !== undefined };
  await app.register(overviewRoutes(overview), { prefix: ADMIN_PREFIX });
  await app.register(statusPage());
  await app.register(dashboard({ config }));
  await app.register(probeRoutes({ config, logger }));
  return app;
}
