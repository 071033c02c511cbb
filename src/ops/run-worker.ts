/**
 * Run a worker until the signal aborts (SIGTERM/SIGINT in the CLI), then close gracefully. The
 * process also runs maintenance windows' timed steps (WINDOW_CONCURRENCY, 0 = none), when
 * NOTIFY_URL is set the failure webhooks (src/notify), and when WORKER_METRICS_PORT is set and
 * the caller passes `opsServer` a small HTTP server with /healthz, /readyz and /metrics.
 */
import { once } from 'node:events';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { SendmuxClient } from '../sendmux/client.js';
import { deadline, stopBudgetMs } from '../shutdown.js';
import { startTracing } from '../telemetry/tracing.js';
import { startWorker } from '../worker/worker.js';
import { closeWithin, type Servable } from './serve.js';
import type { WindowService } from './window-service.js';

export interface RunWorkerOptions {
  signal: AbortSignal;
  client?: SendmuxClient;
  /** Called once the worker takes jobs. */
  onReady?(): void;
  /**
   * Builds the server of /healthz, /readyz and /metrics served on WORKER_METRICS_PORT when it
   * is set (`buildOpsServer` of src/http/probe-routes.ts; the `worker` command passes it, `start`
   * does not: its main server serves them).
   */
  opsServer?: (deps: { config: Config; logger: Logger }) => Promise<Servable>;
}

export async function runWorker(
  config: Config,
  logger: Logger,
  options: RunWorkerOptions,
): Promise<{ forced: boolean }> {
  const tracing = await startTracing(logger);
  const worker = await startWorker({ config, logger, client: options.client });
  let windows: Promise<WindowService | undefined> = Promise.resolve(undefined);
  /** Whether the windows' start was given up on (its BullMQ connections may still linger). */
  let windowsAborted = false;
  if (config.windowConcurrency > 0) {
    // Waits for Redis like the worker does; stops waiting on the signal.
    windows = import('./window-service.js')
      .then(({ startWindowService }) =>
        startWindowService(config, logger, { signal: options.signal }),
      )
      .catch((err: unknown) => {
        if (options.signal.aborted) windowsAborted = true;
        else logger.error({ err: String(err) }, 'maintenance windows could not start');
        return undefined;
      });
  }
  // Failure webhooks: a forwarder (events stream -> notifications queue) and its POSTing
  // worker. Separate from the action worker; one that cannot start is logged, not fatal.
  let notifier: Promise<Notifier | undefined> = Promise.resolve(undefined);
  if (config.notifyUrl !== undefined) {
    notifier = import('../notify/notifier.js')
      .then(({ startNotifier }) => startNotifier(config, logger, { signal: options.signal }))
      .catch((err: unknown) => {
        if (!options.signal.aborted) {
          logger.error({ err: String(err) }, 'failure webhooks could not start');
        }
        return undefined;
      });
  }
  const ops = serveOps(config, logger, options);
  const stopped = options.signal.aborted ? Promise.resolve() : once(options.signal, 'abort');
  // A worker waiting for an unreachable Redis still stops on the signal.
  const ready = Promise.all([worker.waitUntilReady(), windows, notifier]).then(() => {
    if (!options.signal.aborted) options.onReady?.();
  });
  ready.catch(() => undefined);
  await stopped;
  // Every part stops at once, each within what is left of SHUTDOWN_TIMEOUT_MS.
  const left = deadline(stopBudgetMs(config.shutdownTimeoutMs));
  const closing = worker.close(left());
  const notifierClosed = notifier.then((n) => n?.close(left())).catch(() => undefined);
  const windowsClosed = windows.then(
    async (w) => (w ? await w.close(left()) : !windowsAborted),
    () => false,
  );
  const opsClosed = ops.then((app) => closeOps(app, Math.min(METRICS_CLOSE_MS, left())));
  const [result, windowsInTime] = await Promise.all([
    closing,
    windowsClosed,
    notifierClosed,
    opsClosed,
  ]);
  await tracing.shutdown();
  // Forced: something was cut short, and what it left may hold the process (the CLI exits).
  return { forced: result.forced || !windowsInTime };
}

/** Where the metrics server listens: every interface, for the scraper and the probes. */
const METRICS_HOST = '0.0.0.0';
/** Longest wait for the metrics server to close. */
const METRICS_CLOSE_MS = 2_000;

/** The metrics server on WORKER_METRICS_PORT; one that cannot start is logged, not fatal. */
async function serveOps(
  config: Config,
  logger: Logger,
  options: RunWorkerOptions,
): Promise<Servable | undefined> {
  if (config.metricsPort === undefined || !options.opsServer || options.signal.aborted) {
    return undefined;
  }
  let app: Servable | undefined;
  try {
    app = await options.opsServer({ config, logger });
    const url = await app.listen({ port: config.metricsPort, host: METRICS_HOST });
    logger.info({ url }, 'serving /metrics, /healthz and /readyz');
    return app;
  } catch (err) {
    logger.error(
      { err: String(err), port: config.metricsPort },
      'WORKER_METRICS_PORT: could not serve metrics',
    );
    await Promise.resolve(app?.close()).catch(() => undefined);
    return undefined;
  }
}

async function closeOps(app: Servable | undefined, ms: number): Promise<void> {
  if (app) await closeWithin(app, ms).catch(() => undefined);
}
