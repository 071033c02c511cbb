/**
 * Run the HTTP server until the signal aborts (SIGTERM/SIGINT in the CLI), then close it
 * gracefully: stop accepting, let requests in flight finish (each is one short Redis step),
 * close the Redis connection. Bounded by SHUTDOWN_TIMEOUT_MS whatever clients or Redis do.
 *
 * The server itself is a shell (src/http/), so it is passed in: ops never import the shells.
 */
import { once } from 'node:events';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Windows } from '../producers/windows/windows.js';
import { checkEvictionPolicy, createRedis } from '../redis.js';
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
    config.redisUrl,
    { maxRetriesPerRequest: 2, commandTimeout: REDIS_COMMAND_TIMEOUT_MS },
    logger,
  );
  try {
    void checkEvictionPolicy(redis, logger);
    const breaker =
      options.breaker === false ? undefined : await startBreakerService(config, logger);
    // The windows' admin side (create, cancel, ...); their steps run in `worker` processes.
    const windows = openWindows(config);
    const app = await options.buildServer({ config, redis, logger, breaker, windows });
    let forced: boolean;
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
      forced = await closeWithin(app, config.shutdownTimeoutMs);
      await breaker?.close();
      await windows.close();
      logger.info({ forced }, 'HTTP server closed');
    }
    return { forced };
  } finally {
    await quitWithin(redis, 2_000);
    await tracing.shutdown();
  }
}

/** Close gracefully; past `ms`, drop the connections left. @returns whether it had to. */
export async function closeWithin(app: Servable, ms: number): Promise<boolean> {
  const closed = Promise.resolve(app.close()).then(() => false);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<true>((resolve) => {
    timer = setTimeout(() => {
      resolve(true);
    }, ms);
  });
  const forced = await Promise.race([closed, late]);
  clearTimeout(timer);
  if (forced) {
    app.server.closeAllConnections();
    await closed;
  }
  return forced;
}

async function quitWithin(redis: Redis, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
  redis.disconnect();
}
