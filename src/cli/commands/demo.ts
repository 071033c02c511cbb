import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { UsageError } from '../../errors.js';
import { createLogger } from '../../logger.js';
import { EXIT_ACTION_FAILED } from '../exit-codes.js';
import { intOption } from '../options.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'simulator + worker in one process: ~200 deactivations with faults, progress, outcomes',
    )
    .option(
      '--accounts <n>',
      'good accounts to deactivate',
      intOption('--accounts', 1, 100_000),
      195,
    )
    .option(
      '--windows',
      'a maintenance window instead: 50 accounts off and back on twice on a clock of seconds (~30 s)',
    )
    .action(async (flags: { accounts: number; windows?: boolean }, command: Command) => {
      // Worker logs would fight the progress bar: quiet unless LOG_LEVEL asks otherwise.
      const config = loadConfig({ LOG_LEVEL: 'silent', ...process.env });
      const logger = createLogger({ level: config.logLevel, pretty: false });
      // With --windows, --accounts counts the window's accounts when given (default 50).
      const windowAccounts =
        command.getOptionValueSource('accounts') === 'cli' ? flags.accounts : 50;
      if (flags.windows && windowAccounts < 3) {
        throw new UsageError('--accounts: at least 3 with --windows');
      }
      // Loaded here, not at start: the demo brings the simulator (fastify) along.
      const { describeLocalRedis, findLocalRedis } = await import('../../redis/find-redis.js');
      // REDIS_URL, else the default URL, else a throwaway redis-server (stopped at the end).
      const redis = await findLocalRedis();
      process.stdout.write(`demo: Redis at ${describeLocalRedis(redis)}\n`);
      try {
        if (flags.windows) {
          const { runWindowDemo } = await import('../../demo/window-demo.js');
          const result = await runWindowDemo({
            config: { ...config, redisUrl: redis.url },
            logger,
            accounts: windowAccounts,
            out: process.stdout,
          });
          if (result.exitCode !== 0) process.exitCode = EXIT_ACTION_FAILED;
          return;
        }
        const { runDemo } = await import('../../demo/run-demo.js');
        await runDemo({
          config: { ...config, redisUrl: redis.url },
          logger,
          accounts: flags.accounts,
          out: process.stdout,
          progressBar: process.stdout.isTTY,
        });
      } finally {
        await redis.stop();
      }
    });
}
