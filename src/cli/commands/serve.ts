import type { Command } from 'commander';
import { cliContext, stopSignal } from '../context.js';
import { intOption } from '../options.js';

interface ServeFlags {
  port?: number;
  host: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run the HTTP server (health, the Sendmux webhook receiver, the admin API) until SIGTERM/SIGINT',
    )
    .option('--port <n>', 'port to listen on (default: PORT, 8080)', intOption('--port', 0, 65_535))
    .option('--host <address>', 'address to bind', '0.0.0.0')
    .addHelpText(
      'after',
      `
Environment (see the README's configuration table for every setting):
  PORT                      default 8080
  ADMIN_TOKEN               token of the admin routes (all but /healthz, /readyz, /openapi.json,
                            the webhooks); unset = they answer 503 (never logged)
  ADMIN_TOKENS              more tokens, named: name:token[:read],... (read = GET only; never logged)
  SENDMUX_WEBHOOK_SECRET    the webhook subscription's secret; unset = webhooks answer 503 (never logged)
  WEBHOOK_BODY_LIMIT_BYTES, WEBHOOK_DEDUPE_TTL_S, WEBHOOK_INBOX_MAXLEN, REDIS_URL, QUEUE_PREFIX,
  SHUTDOWN_TIMEOUT_MS, LOG_LEVEL, ...`,
    )
    .action(async (flags: ServeFlags) => {
      const { config, logger } = cliContext('stdout');
      const signal = stopSignal();
      // Loaded here, not at start: the other commands run without fastify.
      const { buildServer } = await import('../../http/server.js');
      const { serve } = await import('../../ops/serve.js');
      const { forced } = await serve(config, logger, {
        signal,
        buildServer,
        port: flags.port,
        host: flags.host,
      });
      logger.info({ forced }, 'bye');
      logger.flush();
      // As `worker`: after a forced close (Redis unreachable or frozen) BullMQ may still hold
      // reconnect timers; the server is done, so the process ends now, within its timeout.
      if (forced) process.exit(0);
    });
}
