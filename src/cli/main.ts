/**
 * `sendmux-deactivator` CLI: thin commander shells over the library functions.
 * Exit codes (errors.ts, `EXIT`): 0 done, 1 done but something failed or was refused by state,
 * 2 bad input or configuration, 3 timed out, 4 not found, 130 interrupted. A command that
 * fails prints `error: <message>` on stderr; with `--json` also `{"error":{"code","message"}}`
 * on stdout, the code from the table in errors.ts (the HTTP API answers the same).
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../config.js';
import { ERRORS, errorCodeOf, type ErrorCode } from '../errors.js';
import { safeRedisUrl } from '../redis/connect.js';
import { VERSION } from '../version.js';
import { registerBatch } from './commands/batch.js';
import { registerBreaker } from './commands/breaker.js';
import { registerBulk } from './commands/bulk.js';
import { registerActions } from './commands/deactivate-activate.js';
import { registerDemo } from './commands/demo.js';
import { registerEvents } from './commands/events.js';
import { registerHolds } from './commands/holds.js';
import { registerServe } from './commands/serve.js';
import { registerSim } from './commands/sim.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerWindow } from './commands/window.js';
import { registerWorker } from './commands/worker.js';
import { actorOption } from './context.js';
import { EXIT_OK } from './exit-codes.js';

export function buildProgram(): Command {
  const program = new Command('sendmux-deactivator')
    .description(
      'Switch Sendmux sending accounts off (and back on) safely through a Redis-backed queue',
    )
    .version(VERSION)
    .option(
      '--actor <name>',
      'who is asking, recorded with every intent, hold and batch (default: $USER)',
      actorOption,
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerWorker(program);
  registerServe(program);
  registerStart(program);
  registerActions(program);
  registerBulk(program);
  registerBatch(program);
  registerStatus(program);
  registerHolds(program);
  registerBreaker(program);
  registerWindow(program);
  registerEvents(program);
  registerSim(program);
  registerDemo(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Run the CLI; resolves with the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every other commander error is bad usage (commander
      // has printed it on stderr).
      if (err.exitCode === 0) return EXIT_OK;
      return failed(argv, 'invalid_input', err.message.replace(/^error: /, ''), false);
    }
    const message = describe(err);
    const code = /^cannot reach (the )?Redis/.test(message)
      ? 'redis_unavailable'
      : errorCodeOf(err);
    return failed(argv, code, message, true);
  }
}

/**
 * The exit code of `code` (errors.ts); `error: <message>` on stderr (unless printed already),
 * and with `--json` the error envelope on stdout, as the HTTP API answers it.
 */
function failed(
  argv: readonly string[],
  code: ErrorCode,
  message: string,
  toStderr: boolean,
): number {
  if (toStderr) process.stderr.write(`error: ${message}\n`);
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  }
  return ERRORS[code].exit;
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const unreachableCluster =
    err instanceof Error &&
    (err.name === 'ClusterAllFailedError' || /None of startup nodes is available/.test(message));
  if (err instanceof Error && (err.name === 'MaxRetriesPerRequestError' || unreachableCluster)) {
    const nodes = clusterNodesInUse();
    if (nodes) {
      return `cannot reach the Redis Cluster at ${nodes} (REDIS_CLUSTER_NODES): connection refused or timed out`;
    }
    return `cannot reach Redis at ${safeRedisUrl(redisUrlInUse())} (REDIS_URL): connection refused or timed out`;
  }
  return message;
}

/** The Redis Cluster seed nodes the command used, if any. */
function clusterNodesInUse(): string | undefined {
  try {
    return loadConfig()
      .redisClusterNodes?.map((n) => `${n.host}:${n.port}`)
      .join(',');
  } catch {
    return process.env.REDIS_CLUSTER_NODES;
  }
}

/** The Redis URL the command used (the configured one, or the default). */
function redisUrlInUse(): string {
  try {
    return loadConfig().redisUrl;
  } catch {
    return process.env.REDIS_URL ?? '(REDIS_URL)';
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`fatal: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
