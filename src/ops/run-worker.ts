/** Run a worker until the signal aborts (SIGTERM/SIGINT in the CLI), then close gracefully. */
import { once } from 'node:events';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { SendmuxClient } from '../sendmux/client.js';
import { startWorker } from '../worker/worker.js';

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
  const stopped = options.signal.aborted ? Promise.resolve() : once(options.signal, 'abort');
  // A worker waiting for an unreachable Redis still stops on the signal.
  const ready = worker.waitUntilReady().then(() => {
    if (!options.signal.aborted) options.onReady?.();
  });
  ready.catch(() => undefined);
  await stopped;
  return worker.close();
}
