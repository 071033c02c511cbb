/**
 * `sendmux-deactivator` CLI: thin commander shells over the library functions.
 * Exit codes: 0 success, 1 an action failed, 2 invalid input or config.
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../config.js';
import { safeRedisUrl } from '../redis.js';
import { VERSION } from '../version.js';
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
import { EXIT_INVALID, EXIT_OK, exitCodeFor } from './exit-codes.js';

export function buildProgram(): Command {
  const program = new Command('sendmux-deactivator')
    .description(
      'Switch Sendmux sending accounts off (and back on) safely through a Redis-backed queue',
    )
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerWorker(program);
  registerServe(program);
  registerStart(program);
  registerActions(program);
  registerBulk(program);
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
      // Help and version are successes; every other commander error is bad usage.
      return err.exitCode === 0 ? EXIT_OK : EXIT_INVALID;
    }
    process.stderr.write(`error: ${describe(err)}\n`);
    return exitCodeFor(err);
  }
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
