/**
 * The probe routes (what monitoring reads; the operations themselves are in src/ops/), for
 * `serve`/`start` (registered by buildServer) and for `worker` with WORKER_METRICS_PORT
 * ({@link buildOpsServer}, a small server of its own, which adds /healthz):
 *
 *   GET /metrics   admin token   Prometheus text format (src/metrics/metrics.ts lists them)
 *   GET /readyz    public        200 { ready: true, checks } | 503 { ready: false, failed, checks }
 *
 * Both read Redis through one connection of their own that fails fast (no offline queue, 1 s
 * connect and command timeouts), opened at the first request and closed with the server, so
 * neither can hang on a Redis that is gone: /readyz answers 503 within about a second then.
 */
import { Queue } from 'bullmq';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginCallback,
} from 'fastify';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { enableProcessMetrics, metricsText } from '../metrics/metrics.js';
import { checkReadiness } from '../metrics/readiness.js';
import { addScrapeSource } from '../metrics/scrape-gauges.js';
import { createScrapeSource } from '../metrics/scrape-source.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { createRedis } from '../redis/connect.js';
import { dropRedis } from '../shutdown.js';
import { keysFor, QUEUE_NAME } from '../store/keys.js';
import { readinessView } from '../wire/service.js';
import { limiterFor } from '../worker/backoff.js';
import { PUBLIC_ROUTE, requireAdminToken } from './auth.js';
import { capConnections, connectionOptions, type ConnectionConfig } from './connection-limits.js';
import { dashboardQueueNames } from './dashboard.js';
import { errorHandler, notFoundHandler, sendError } from './errors.js';

export type OpsConfig = Pick<
  Config,
  'redisUrl' | 'redisClusterNodes' | 'prefix' | 'readyStuckMs' | 'rateLimitPerMinute'
>;

/** Connect and command timeouts of the routes' connection. */
const FAIL_FAST_MS = 1_000;

interface OpsResources {
  redis: Redis;
  queues: Queue[];
  actions: Queue;
  dropSource(): void;
}

/**
 * `GET /metrics` (admin) and `GET /readyz` (public). Register on a server whose root has
 * auth.ts's requireAdminToken.
 */
export function probeRoutes(deps: { config: OpsConfig; logger?: Logger }): FastifyPluginCallback {
  return (app, _opts, done) => {
    const { config } = deps;
    const keys = keysFor(config.prefix);
    enableProcessMetrics();
    let resources: OpsResources | undefined;
    let closed = false;
    const open = (): OpsResources => {
      if (resources) return resources;
      const redis = createRedis(
        config,
        {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          connectTimeout: FAIL_FAST_MS,
          commandTimeout: FAIL_FAST_MS,
        },
        deps.logger,
      );
      const queues = dashboardQueueNames().map((name) => {
        const queue = new Queue(name, { connection: redis, prefix: config.prefix });
        queue.on('error', () => undefined); // the connection logs its errors
        return queue;
      });
      const actions = queues.find((q) => q.name === QUEUE_NAME) ?? (queues[0] as Queue);
      const dropSource = addScrapeSource(createScrapeSource({ redis, keys, queues }));
      resources = { redis, queues, actions, dropSource };
      return resources;
    };
    app.addHook('onClose', async () => {
      closed = true;
      if (!resources) return;
      const { redis, queues } = resources;
      resources.dropSource();
      await Promise.race([
        Promise.all(queues.map((q) => q.close().catch(() => undefined))),
        new Promise((r) => setTimeout(r, FAIL_FAST_MS)),
      ]);
      await Promise.race([
        redis.quit().catch(() => undefined),
        new Promise((r) => setTimeout(r, FAIL_FAST_MS)),
      ]);
      // disconnect() alone leaves the socket of a frozen Redis open, holding the process.
      dropRedis(redis);
    });

    app.get('/metrics', async (_req, reply) => {
      if (!closed) open();
      const { contentType, body } = await metricsText();
      return reply.type(contentType).send(body);
    });

    /**
     * Ready: Redis answers PING within 1 s, and the actions queue is not stuck (no job ready to
     * run for longer than READY_STUCK_MS while the queue is not paused, no job runs and none
     * finished meanwhile: the rule in full in metrics/readiness.ts). 503 names the failed
     * check(s) in `failed`; each check says what it saw. `?checks=redis` leaves the queue out
     * (for servers that only take webhooks and API calls).
     */
    app.get('/readyz', { config: PUBLIC_ROUTE }, async (req, reply) => {
      if (closed) return sendError(reply, 'closing', 'the server is closing');
      const { checks } = req.query as { checks?: unknown };
      if (checks !== undefined && checks !== 'redis' && checks !== 'redis,queue') {
        return sendError(reply, 'invalid_input', 'query.checks: must be redis or redis,queue');
      }
      const { redis, actions } = open();
      const readiness = await checkReadiness({
        redis,
        queue: actions,
        keys,
        stuckMs: config.readyStuckMs,
        limiterMax: limiterFor(config.rateLimitPerMinute).max,
        checkQueue: checks !== 'redis',
      });
      return reply.code(readiness.ready ? 200 : 503).send(readinessView(readiness));
    });
    done();
  };
}

/**
 * A small server of its own with /healthz, /readyz and /metrics (the admin token guards
 * /metrics as on the main server): what `worker` serves on WORKER_METRICS_PORT.
 */
export async function buildOpsServer(deps: {
  config: OpsConfig & Pick<Config, 'adminToken' | 'adminTokens'> & ConnectionConfig;
  logger: Logger;
}): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    // The same bounds on slow, idle and too many clients as the main server.
    ...connectionOptions(deps.config),
  });
  capConnections(app, deps.config, deps.logger);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  requireAdminToken(app, deps.config);
  app.get('/healthz', { config: PUBLIC_ROUTE }, (_req, reply) => reply.send({ ok: true }));
  await app.register(probeRoutes({ config: deps.config, logger: deps.logger }));
  return app;
}
