/**
 * What one client can hold of a server's port, for every server this project listens with (the
 * main one, http/server.ts, and `worker`'s ops server, http/probe-routes.ts): its headers within
 * HTTP_HEADERS_TIMEOUT_MS, its whole request within HTTP_REQUEST_TIMEOUT_MS (else 408 and
 * closed), an idle keep-alive connection HTTP_KEEP_ALIVE_TIMEOUT_MS, and at most
 * HTTP_MAX_CONNECTIONS open connections (one more is closed as it opens). The time a handler
 * takes is not bounded here (POST /v1/actions has its own limit, the webhook receiver its
 * Redis wait).
 */
import type { ServerOptions } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { countRefusedConnection } from '../metrics/metrics.js';
import { throttledLog } from './log-throttle.js';

export type ConnectionConfig = Pick<
  Config,
  'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs' | 'httpKeepAliveTimeoutMs' | 'httpMaxConnections'
>;

/**
 * How often node closes connections past their header or request timeout (its default, 30 s,
 * would let a slow client stay that much longer).
 */
export const CONNECTIONS_CHECK_MS = 1_000;

/** Fastify's options for the timeouts (node's server is made with them). */
export function connectionOptions(config: ConnectionConfig): {
  http: ServerOptions;
  requestTimeout: number;
  keepAliveTimeout: number;
} {
  return {
    http: {
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
    },
    requestTimeout: config.httpRequestTimeoutMs,
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
  };
}

/**
 * The connection cap on `app`'s node server: a refused connection is counted
 * (`http_connections_refused_total`) and logged at most once per 10 s.
 */
export function capConnections(app: FastifyInstance, config: ConnectionConfig, logger: Logger) {
  app.server.maxConnections = config.httpMaxConnections;
  const refusedLog = throttledLog();
  app.server.on('drop', () => {
    countRefusedConnection();
    refusedLog((suppressed) => {
      logger.warn(
        { max_connections: config.httpMaxConnections, suppressed },
        'connection refused: HTTP_MAX_CONNECTIONS are open (counted in http_connections_refused_total)',
      );
    });
  });
}
