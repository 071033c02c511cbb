import type { Command } from 'commander';
import { requireApiKey } from '../../config.js';
import { cliContext, stopSignal } from '../context.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run workers until SIGTERM/SIGINT, then finish in-flight calls and exit 0')
    .addHelpText(
      'after',
      `
Environment (see the README's configuration table for every setting):
  SENDMUX_API_KEY        required: the team's root API key (never logged)
  SENDMUX_BASE_URL       default https://app.sendmux.ai/api/v1
  REDIS_URL              default redis://127.0.0.1:6379
  QUEUE_PREFIX           default {sdx} (must contain a {hash tag})
  SENDMUX_RATE_LIMIT     requests/min shared by all workers, default 540
  WORKER_CONCURRENCY     default 10
  MAX_ATTEMPTS, BACKOFF_BASE_MS, BACKOFF_CAP_MS, SENDMUX_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MS,
  WORKER_LOCK_DURATION_MS, WORKER_STALLED_INTERVAL_MS, LOG_LEVEL, ...`,
    )
    .action(async () => {
      const { config, logger } = cliContext('stdout');
      requireApiKey(config);
      const signal = stopSignal();
      const { runWorker } = await import('../../ops/run-worker.js');
      const { forced } = await runWorker(config, logger, {
        signal,
        onReady: () => {
          logger.info('worker ready');
        },
        // WORKER_METRICS_PORT's server (/healthz, /readyz, /metrics): a shell, so passed in.
        opsServer: async (deps) =>
          (await import('../../http/probe-routes.js')).buildOpsServer(deps),
      });
      logger.info({ forced }, 'bye');
      logger.flush();
      // After a forced close (calls aborted, or Redis unreachable) BullMQ may still hold
      // reconnect timers; the worker is done, so the process ends now, within its timeout.
      if (forced) process.exit(0);
    });
}
