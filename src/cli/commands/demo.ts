import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { runDemo } from '../../demo/run-demo.js';
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
      const config = loadConfig();
      // Worker logs would fight the progress bar: quiet unless LOG_LEVEL asks otherwise.
      const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent', pretty: false });
      await runDemo({
        config,
        logger,
        accounts: flags.accounts,
        out: process.stdout,
        progressBar: process.stdout.isTTY,
      });
    });
}
