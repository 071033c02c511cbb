/**
 * Run the HTTP server until the signal aborts (SIGTERM/SIGINT in the CLI), then close it
 * gracefully: stop accepting, let requests in flight finish (each is one short Redis step),
 * close the Redis connection. Bounded by SHUTDOWN_TIMEOUT_MS whatever clients or Redis do.
 *
 * The server itself is a shell (src/http/), so it is passed in: ops never import the shells.
 */
import { once } from 'node:events';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Windows } from '../producers/windows/windows.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { checkEvictionPolicy, createRedis } from '../redis/connect.js';
import { deadline, quitWithin, stopBudgetMs, within } from '../shutdown.js';
import { startTracing } from '../telemetry/tracing.js';
import { startBreakerService, type BreakerService } from './breaker-service.js';
import { openWindows } from './windows.js';

/** Listen on every interface: Sendmux must reach the webhook receiver. */
export const DEFAULT_HOST = '0.0.0.0';

/** Longest wait for one Redis command of a request: a webhook then gets a 500 and is retried. */
const REDIS_COMMAND_TIMEOUT_MS = 5_000;

/** What `serve` needs of a server (a fastify instance has it). */
export interface Servable {
  listen(options: { port: number; host: string }): Promise<string>;
  close(): PromiseLike<unknown>;
  server: { closeAllConnections(): void };
}

/** The part of SHUTDOWN_TIMEOUT_MS the HTTP requests in flight may take to finish. */
const HTTP_SHARE = 0.7;
/** After dropping the connections left, how long the server's own close hooks may still take. */
const AFTER_DROP_MS = 300;

export type BuildServable = (deps: {
  config: Config;
  redis: Redis;
  logger: Logger;
  breaker?: BreakerService;
  windows?: Windows;
}) => Promise<Servable>;

export interface ServeOptions {
  signal: AbortSignal;
  /** `buildServer` of src/http/server.ts. */
  buildServer: BuildServable;
  /** @defaultValue `config.port` */
  port?: number;
  /** @defaultValue {@link DEFAULT_HOST} */
  host?: string;
  /** Called with the server's URL once it listens. */
  onListening?(url: string): void;
  /**
   * Run the breaker next to the server (the webhook inbox consumer, the timed steps, its
   * admin routes). @defaultValue true
   */
  breaker?: boolean;
}

export async function serve(
  config: Config,
  logger: Logger,
  options: ServeOptions,
): Promise<{ forced: boolean }> {
  const stopped = options.signal.aborted ? Promise.resolve() : once(options.signal, 'abort');
  // Once per process (`start` runs the worker too); off unless OTEL_* variables ask for it.
  const tracing = await startTracing(logger);
  // Fail a request fast while Redis is away (Sendmux retries), rather than hold it.
  const redis = createRedis(
    config,
    { maxRetriesPerRequest: 2, commandTimeout: REDIS_COMMAND_TIMEOUT_MS },
    logger,
  );
  // What is left of SHUTDOWN_TIMEOUT_MS: counted from the stop (or a failure).
  let left = deadline(stopBudgetMs(config.shutdownTimeoutMs));
  /** Forced: something was cut short, and what it left may hold the process (the CLI exits). */
  const result = { forced: false };
  try {
    void checkEvictionPolicy(redis, logger);
    let breaker: BreakerService | undefined;
    if (options.breaker !== false) {
      try {
        // Waits for Redis (a server started before its Redis comes up with it); the signal
        // ends the wait, and what the start had opened is dropped.
        breaker = await startBreakerService(config, logger, { signal: options.signal });
      } catch (err) {
        if (!options.signal.aborted) throw err;
        left = deadline(stopBudgetMs(config.shutdownTimeoutMs));
        logger.info('stopped while starting (Redis did not answer): nothing was served');
        return result;
      }
    }
    // The windows' admin side (create, cancel, ...); their steps run in `worker` processes.
    const windows = openWindows(config);
    const app = await options.buildServer({ config, redis, logger, breaker, windows });
    try {
      if (!options.signal.aborted) {
        const url = await app.listen({
          port: options.port ?? config.port,
          host: options.host ?? DEFAULT_HOST,
        });
        options.onListening?.(url);
        await stopped;
      }
    } finally {
      left = deadline(stopBudgetMs(config.shutdownTimeoutMs));
      // Requests in flight first (they use the breaker and the windows), then the rest, each
      // bounded whatever Redis does.
      result.forced = await closeWithin(app, left() * HTTP_SHARE);
      await Promise.all([breaker?.close(left()), windows.close(left())]);
      logger.info({ forced: result.forced }, 'HTTP server closed');
    }
    return result;
  } finally {
    if (!(await quitWithin(redis, left()))) result.forced = true;
    await tracing.shutdown();
  }
}

/**
 * Close gracefully; past `ms`, drop the connections left, and give the close hooks at most
 * {@link AFTER_DROP_MS} more: never waits longer. @returns whether it had to drop connections
 * or stop waiting.
 */
export async function closeWithin(app: Servable, ms: number): Promise<boolean> {
  const closed = Promise.resolve(app.close());
  if (await within(closed, ms)) return false;
  app.server.closeAllConnections();
  await within(closed, AFTER_DROP_MS);
  return true;
}
