/**
 * A stop is bounded, whatever Redis does (issue 18, part 1): every long-running process
 * (`worker`, `serve`, `start`, `sim`) exits within SHUTDOWN_TIMEOUT_MS of SIGTERM or SIGINT
 * with its Redis up, down (killed), frozen (SIGSTOP), never reachable since start-up, or coming
 * back right after the signal; and its last lines say it stopped. Real processes, each case
 * with its own redis-server and prefix; the cases run side by side.
 *
 * `SHUTDOWN_REPORT=1` prints each case's stop time (docs/reliability.md, section 1);
 * `SHUTDOWN_REPORT=full` also each process's output.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../src/redis/redis-server.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { spawnCli, type CliProcess } from '../support/cli-process.js';
import { uniquePrefix } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/throwaway-redis.js';

sharedFixtures();

/** Small, so the file stays fast; SENDMUX_TIMEOUT_MS must not exceed it. */
const SHUTDOWN_MS = 3_000;
/** Process teardown on a loaded 2-core machine (the bound itself is SHUTDOWN_TIMEOUT_MS). */
const SLACK_MS = 5_000;

type Command = 'worker' | 'serve' | 'start' | 'sim';
/**
 * up: Redis answers. down: killed after start-up. frozen: SIGSTOPped after start-up.
 * never: nothing ever listens at REDIS_URL (the signal comes while the process still starts).
 * back: as never, but Redis starts listening right after the signal.
 * revived: as down, but Redis comes back right after the signal.
 */
type RedisState = 'up' | 'down' | 'frozen' | 'never' | 'back' | 'revived';

let sim: Simulator | undefined;
const measured: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ accounts: 5, rateLimit: 0 });
});

afterAll(async () => {
  await sim?.close();
  if (process.env.SHUTDOWN_REPORT) process.stdout.write(`${measured.sort().join('\n')}\n`);
});

/** What a process prints once it runs (Redis reachable), per command. */
const RUNNING: Record<Command, RegExp[]> = {
  worker: [/"msg":"worker ready"/],
  serve: [/Server listening at/],
  start: [/Server listening at/, /"msg":"worker ready"/],
  sim: [/simulator listening/],
};
/** Its last words after a signal. */
const STOPPED: Record<Command, RegExp> = {
  worker: /"msg":"bye"/,
  serve: /"msg":"bye"/,
  start: /"msg":"bye"/,
  sim: /simulator stopped/,
};

function argsOf(command: Command, port: number): string[] {
  if (command === 'worker') return ['worker'];
  return [command, '--port', String(port), '--host', '127.0.0.1'];
}

async function runCase(command: Command, state: RedisState, signal: NodeJS.Signals) {
  let redis: ThrowawayRedis | undefined;
  let proc: CliProcess | undefined;
  try {
    let redisUrl: string;
    if (state === 'never') {
      redisUrl = `redis://127.0.0.1:${await freeLoopbackPort()}`;
    } else {
      redis = await startThrowawayRedis();
      redisUrl = redis.url;
      if (state === 'back') await redis.kill();
    }
    proc = spawnCli(argsOf(command, await freeLoopbackPort()), {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: uniquePrefix(),
      SENDMUX_BASE_URL: sim?.url ?? '',
      SENDMUX_API_KEY: 'smx_root_sim_key',
      ADMIN_TOKEN: 'admin-token-shutdown-e2e-0123',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_MS),
      SENDMUX_TIMEOUT_MS: '2000',
      // The failure webhooks' forwarder and delivery worker run in worker processes too.
      NOTIFY_URL: 'http://127.0.0.1:9/hooks',
      NOTIFY_SECRET: 'notify-secret-shutdown-e2e-0123',
    });
    const reachable = state !== 'never' && state !== 'back';
    if (reachable || command === 'sim') {
      for (const line of RUNNING[command]) await proc.waitForOutput(line, 30_000);
    } else {
      // Still starting: the signal comes while it waits for Redis.
      await proc.waitForOutput(/Redis connection error/, 30_000);
    }
    if (state === 'down' || state === 'revived') {
      await redis?.kill();
      if (command !== 'sim') await proc.waitForOutput(/Redis connection error/, 10_000);
    } else if (state === 'frozen') {
      redis?.freeze();
      await sleep(300);
    }
    const sentAt = Date.now();
    proc.child.kill(signal);
    if (state === 'back' || state === 'revived') await redis?.revive();
    const limit = SHUTDOWN_MS + SLACK_MS;
    const code = await Promise.race([proc.exited, sleep(limit, 'still running')]);
    const tookMs = Date.now() - sentAt;
    measured.push(
      `${command.padEnd(6)} ${state.padEnd(6)} ${signal}: exit ${String(code)} after ${tookMs} ms`,
    );
    const tail = proc.output().trimEnd().split('\n').slice(-5).join('\n');
    if (process.env.SHUTDOWN_REPORT === 'full')
      process.stdout.write(`--- ${command} ${state}\n${proc.output()}\n`);
    expect(
      code,
      `${command} with Redis ${state}: not stopped ${limit} ms after ${signal}:\n${tail}`,
    ).toBe(0);
    expect(tookMs).toBeLessThanOrEqual(limit);
    expect(tail, 'its last lines say it stopped').toMatch(STOPPED[command]);
  } finally {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    await redis?.stop();
  }
}

describe.concurrent('a stop is bounded whatever Redis does', () => {
  for (const command of ['worker', 'serve', 'start'] as const) {
    it(`${command}: Redis up, SIGINT: stops gracefully`, () => runCase(command, 'up', 'SIGINT'));
    it(`${command}: Redis down (killed), SIGTERM`, () => runCase(command, 'down', 'SIGTERM'));
    it(`${command}: Redis frozen (SIGSTOP), SIGTERM`, () => runCase(command, 'frozen', 'SIGTERM'));
    it(`${command}: Redis never reachable, SIGTERM while starting`, () =>
      runCase(command, 'never', 'SIGTERM'));
  }
  for (const command of ['serve', 'start'] as const) {
    it(`${command}: Redis never reachable, then back right after the signal`, () =>
      runCase(command, 'back', 'SIGTERM'));
    it(`${command}: Redis killed, then back right after the signal`, () =>
      runCase(command, 'revived', 'SIGTERM'));
  }
  // The simulator opens no Redis connection: whatever Redis does, it stops on the signal.
  for (const state of ['up', 'down', 'frozen'] as const) {
    it(`sim: Redis ${state}, SIGTERM`, () => runCase('sim', state, 'SIGTERM'));
  }
});
