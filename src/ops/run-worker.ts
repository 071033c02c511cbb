/** Run workers until the signal aborts (SIGTERM/SIGINT in the CLI), then close gracefully. */
import { once } from 'node:events';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { SendmuxClient } from '../sendmux/index.js';
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
  await worker.waitUntilReady();
  options.onReady?.();
  if (!options.signal.aborted) await once(options.signal, 'abort');
  return worker.close();
}
