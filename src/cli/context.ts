/** What every CLI command needs: settings, a logger, a stop signal. */
import { InvalidArgumentError, type Command } from 'commander';
import pino from 'pino';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { ACTOR_RULE, ACTOR_RULE_TEXT, cliUser } from '../model.js';

export interface CliContext {
  config: Config;
  logger: Logger;
}

/**
 * @param logsTo - `stdout` for long-running services, `stderr` for commands whose stdout is
 *   data (`--json`).
 */
export function cliContext(logsTo: 'stdout' | 'stderr' = 'stderr'): CliContext {
  const config = loadConfig();
  const logger =
    logsTo === 'stdout'
      ? createLogger({ level: config.logLevel })
      : createLogger({
          level: config.logLevel,
          pretty: false,
          destination: pino.destination({ fd: 2, sync: true }),
        });
  return { config, logger };
}

/**
 * Aborts on the first SIGTERM or SIGINT. Repeated signals are absorbed, not fatal: a Ctrl-C in
 * a terminal, or `timeout -s INT`, reaches the whole process group and so often arrives twice;
 * the shutdown stays graceful and bounded by its own timeout.
 */
export function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => {
    controller.abort();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return controller.signal;
}

/** Parses `--actor` (a global option: before or after the command's name). */
export function actorOption(value: string): string {
  if (!ACTOR_RULE.test(value)) {
    throw new InvalidArgumentError(`--actor ${ACTOR_RULE_TEXT} (got "${value}")`);
  }
  return value;
}

/**
 * Who runs this command: `--actor` wherever it was given on the command line, else the user
 * ({@link cliUser}). Pass the `Command` that commander hands to an action as its last argument.
 */
export function actorOf(command: Command): string {
  const given: unknown = command.optsWithGlobals().actor;
  return typeof given === 'string' ? given : cliUser();
}
