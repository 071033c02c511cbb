import type { Command } from 'commander';
import { requireApiKey } from '../../config.js';
import { cliContext, stopSignal } from '../context.js';
import { intOption } from '../options.js';

interface StartFlags {
  port?: number;
  host: string;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'run the worker and the HTTP server (admin API, dashboard, status page, metrics, webhooks) in one process until SIGTERM/SIGINT',
    )
    .option('--port <n>', 'port to listen on (default: PORT, 8080)', intOption('--port', 0, 65_535))
    .option('--host <address>', 'address to bind', '0.0.0.0')
    .addHelpText(
      'after',
      `
For small installs (the Docker image's default). At scale, run \`worker\` processes and
\`serve\` processes apart instead; they share nothing but Redis.

Environment (see the README's configuration table for every setting):
  SENDMUX_API_KEY           required: the team's root API key (never logged)
  ADMIN_TOKEN               token of the admin routes (all but /healthz, /readyz, /openapi.json,
                            the webhooks); unset = they answer 503 (never logged)
  ADMIN_TOKENS              more tokens, named: name:token[:read],... (read = GET only; never logged)
  PORT                      default 8080
  REDIS_URL, QUEUE_PREFIX, SENDMUX_WEBHOOK_SECRET, NOTIFY_URL, NOTIFY_SECRET, LOG_LEVEL, ...`,
    )
    .action(async (flags: StartFlags) => {
      const { config, logger } = cliContext('stdout');
      requireApiKey(config);
      const signal = stopSignal();
      const { buildServer } = await import('../../http/server.js');
      const { start } = await import('../../ops/start.js');
      const { forced } = await start(config, logger, {
        signal,
        buildServer,
        port: flags.port,
        host: flags.host,
        onWorkerReady: () => {
          logger.info('worker ready');
        },
      });
      logger.info({ forced }, 'bye');
      logger.flush();
      // As `worker`: after a forced close BullMQ may still hold reconnect timers.
      if (forced) process.exit(0);
    });
}
