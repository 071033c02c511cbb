/**
 * Who did what, from the CLI (issue 20 §4), run as real processes: `--actor <name>` names the
 * actor of the intents, holds and events a command makes; without it the user running the CLI
 * (`$USER`) does; a bad `--actor` exits 2 naming the option and the rule, with nothing done;
 * `holds` and `events` show the actor; a manual `breaker trip` and `breaker reset` record who.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';
import { readHolds } from '../../src/store/holds.js';
import { keysFor } from '../../src/store/keys.js';
import { startWorker, type ActionWorker } from '../../src/worker/worker.js';
import { runCli } from '../support/cli-process.js';
import { dropPrefix, testConfig, waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();

let sim: Simulator;
let config: Config;
let worker: ActionWorker;
let redis: Redis;
let env: Record<string, string>;
const [A, B, C, D] = [1, 2, 3, 4].map((n) => simAccountId(n)) as [string, string, string, string];

beforeAll(async () => {
  sim = await startSimulator({ accounts: 10, rateLimit: 0 });
  config = testConfig({ baseUrl: sim.url, apiKey: 'smx_root_sim_key' });
  worker = await startWorker({ config, logger: createLogger({ level: 'silent', pretty: false }) });
  redis = new Redis(config.redisUrl);
  env = {
    REDIS_URL: config.redisUrl,
    QUEUE_PREFIX: config.prefix,
    LOG_LEVEL: 'silent',
    SENDMUX_BASE_URL: sim.url,
    SENDMUX_API_KEY: 'smx_root_sim_key',
    USER: 'carol',
  };
});

afterAll(async () => {
  await worker.close(2_000);
  await redis.quit();
  await sim.close();
  await dropPrefix(config.prefix);
});

interface EventLine {
  type: string;
  account_id: string;
  action?: string;
  actor: string | null;
}
async function events(): Promise<EventLine[]> {
  const r = await runCli(['events', '--json', '--limit', '1000'], env);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EventLine);
}

describe('actors on the CLI', () => {
  it('--actor names the actor; without it $USER does; holds and events show it', async () => {
    const named = await runCli(
      ['deactivate', A, '--key', 'actor-cli-a', '--wait', '--actor', 'alice'],
      env,
    );
    expect(named.code, named.stderr).toBe(0);
    // The global option before the command's name works too.
    const before = await runCli(['--actor', 'zed', 'deactivate', D, '--wait'], env);
    expect(before.code, before.stderr).toBe(0);
    const user = await runCli(['deactivate', B, '--key', 'actor-cli-b', '--wait'], env, [
      'LOGNAME',
    ]);
    expect(user.code, user.stderr).toBe(0);

    const byAccount = Object.fromEntries(
      (await events())
        .filter((e) => e.type === 'action.succeeded')
        .map((e) => [e.account_id, e.actor]),
    );
    expect(byAccount).toEqual({ [A]: 'alice', [B]: 'carol', [D]: 'zed' });

    const holds = await runCli(['holds', A, B, '--json'], env);
    expect(holds.code, holds.stderr).toBe(0);
    expect(
      (JSON.parse(holds.stdout) as { account_id: string; holds: { actor: string }[] }[]).map(
        (h) => [h.account_id, h.holds[0]?.actor],
      ),
    ).toEqual([
      [A, 'alice'],
      [B, 'carol'],
    ]);
    const text = await runCli(['holds', A], env);
    expect(text.stdout).toMatch(/\bby\b/);
    expect(text.stdout.split('\n').find((l) => l.includes(A))).toMatch(
      /\bmanual\s+manual\s+alice\b/,
    );
    const lines = await runCli(['events', '--type', 'action.succeeded'], env);
    expect(lines.stdout.split('\n').find((l) => l.includes(A))).toMatch(/ by=alice$/);
  });

  it('a bad --actor exits 2 naming the option and the rule; nothing is done', async () => {
    const r = await runCli(['deactivate', C, '--actor', 'two words'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--actor must be 1..100 visible ASCII characters (no spaces)');
    expect((await readHolds(redis, keysFor(config.prefix), C)).holds).toEqual([]);
  });

  it('a manual breaker trip and reset record who pressed', async () => {
    const trip = await runCli(['breaker', 'trip', C, '--actor', 'dave'], env);
    expect(trip.code, trip.stderr).toBe(0);
    expect((await readHolds(redis, keysFor(config.prefix), C)).holds).toMatchObject([
      { id: 'breaker', actor: 'dave' },
    ]);
    await waitFor(
      async () =>
        (await events()).some((e) => e.type === 'action.succeeded' && e.account_id === C)
          ? true
          : undefined,
      15_000,
      'the trip switched it off',
    );
    const reset = await runCli(['breaker', 'reset', C], env, ['LOGNAME']);
    expect(reset.code, reset.stderr).toBe(0);
    const all = (await events()).filter((e) => e.account_id === C);
    expect(all.filter((e) => e.type.startsWith('breaker.')).map((e) => [e.type, e.actor])).toEqual([
      ['breaker.tripped', 'dave'],
      ['breaker.reset', 'carol'],
    ]);
    expect(all.find((e) => e.type === 'action.succeeded')).toMatchObject({ actor: 'dave' });
  });
});
