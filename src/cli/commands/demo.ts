import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
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
    .action(async (flags: { accounts: number }) => {
      // Worker logs would fight the progress bar: quiet unless LOG_LEVEL asks otherwise.
      const config = loadConfig({ LOG_LEVEL: 'silent', ...process.env });
      const logger = createLogger({ level: config.logLevel, pretty: false });
      // Loaded here, not at start: the demo brings the simulator (fastify) along.
      const { describeLocalRedis, findLocalRedis } = await import('../../demo/local-redis.js');
      const { runDemo } = await import('../../demo/run-demo.js');
      // REDIS_URL, else the default URL, else a throwaway redis-server (stopped at the end).
      const redis = await findLocalRedis();
      process.stdout.write(`demo: Redis at ${describeLocalRedis(redis)}\n`);
      await runDemo({
        config: { ...config, redisUrl: redis.url },
        logger,
        accounts: flags.accounts,
        out: process.stdout,
        progressBar: process.stdout.isTTY,
      }).finally(() => redis.stop());
    });
}
