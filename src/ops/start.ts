/**
 * `start`: the worker and the HTTP server in one process, for small installs (one container).
 * Both stop on the signal, each gracefully within SHUTDOWN_TIMEOUT_MS; if either fails (a port
 * in use, say), the other is stopped too and the error is thrown. At scale, run `worker` and
 * `serve` as separate processes instead: they share nothing but Redis.
 */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { SendmuxClient } from '../sendmux/client.js';
import { runWorker } from './run-worker.js';
import { serve, type ServeOptions } from './serve.js';

export interface StartOptions extends ServeOptions {
  client?: SendmuxClient;
  /** Called once the worker takes jobs. */
  onWorkerReady?(): void;
}

export async function start(
  config: Config,
  logger: Logger,
  options: StartOptions,
): Promise<{ forced: boolean }> {
  // One signal for both: the caller's, or a failure of either part.
  const both = new AbortController();
  const stop = () => {
    both.abort();
  };
  if (options.signal.aborted) stop();
  else options.signal.addEventListener('abort', stop, { once: true });
  const part = <T>(run: Promise<T>) =>
    run.catch((err: unknown) => {
      stop();
      throw err;
    });
  try {
    const [worker, server] = await Promise.allSettled([
      part(
        runWorker(config, logger, {
          signal: both.signal,
          client: options.client,
          onReady: () => options.onWorkerReady?.(),
        }),
      ),
      part(serve(config, logger, { ...options, signal: both.signal })),
    ]);
    if (worker.status === 'rejected') throw worker.reason;
    if (server.status === 'rejected') throw server.reason;
    return { forced: worker.value.forced || server.value.forced };
  } finally {
    options.signal.removeEventListener('abort', stop);
  }
}
