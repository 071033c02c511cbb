/**
 * Run a worker until the signal aborts (SIGTERM/SIGINT in the CLI), then close gracefully. The
 * process also runs maintenance windows' timed steps (WINDOW_CONCURRENCY, 0 = none) and, when
 * NOTIFY_URL is set, the failure webhooks (src/notify).
 */
import { once } from 'node:events';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { SendmuxClient } from '../sendmux/client.js';
import { startWorker } from '../worker/worker.js';
import type { WindowService } from './window-service.js';

export interface RunWorkerOptions {
  signal: AbortSignal;
  client?: SendmuxClient;
  /** Called once the worker takes jobs. */
  onReady?(): void;
}

export async function runWorker(
  config: Config,
  logger: Logger,
  options: RunWorkerOptions,
): Promise<{ forced: boolean }> {
  const worker = await startWorker({ config, logger, client: options.client });
  let windows: Promise<WindowService | undefined> = Promise.resolve(undefined);
  if (config.windowConcurrency > 0) {
    windows = import('./window-service.js')
      .then(({ startWindowService }) => startWindowService(config, logger))
      .catch((err: unknown) => {
        logger.error({ err: String(err) }, 'maintenance windows could not start');
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
  const stopped = options.signal.aborted ? Promise.resolve() : once(options.signal, 'abort');
  // A worker waiting for an unreachable Redis still stops on the signal.
  const ready = Promise.all([worker.waitUntilReady(), windows, notifier]).then(() => {
    if (!options.signal.aborted) options.onReady?.();
  });
  ready.catch(() => undefined);
  await stopped;
  const closing = worker.close();
  const notifierClosed = notifier.then((n) => n?.close()).catch(() => undefined);
  await (await windows)?.close().catch(() => undefined);
  await notifierClosed;
  return closing;
}
