import type { Command } from 'commander';
import { requireApiKey } from '../../config.js';
import { runWorker } from '../../ops/run-worker.js';
import { cliContext, stopSignal } from '../context.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run workers until SIGTERM/SIGINT, then finish in-flight calls and exit 0')
    .action(async () => {
      const { config, logger } = cliContext('stdout');
      requireApiKey(config);
      const signal = stopSignal();
      const { forced } = await runWorker(config, logger, { signal });
      logger.info({ forced }, 'bye');
      logger.flush();
      // After a forced close (calls aborted, or Redis unreachable) BullMQ may still hold
      // reconnect timers; the worker is done, so the process ends now, within its timeout.
      if (forced) process.exit(0);
    });
}
