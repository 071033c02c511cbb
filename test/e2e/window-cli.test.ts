/**
 * Maintenance windows with real processes: the `window` commands (exit 2 naming the field and
 * nothing stored; JSON out), and `worker` processes running the steps: two workers, one start
 * and one end; a worker SIGKILLed while its window runs; a start missed while no worker ran,
 * run late once when two workers come up together. Real Redis, the real simulator.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import type { StreamEvent } from '../../src/model.js';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';
import { readRecentEvents } from '../../src/store/events.js';
import { keysFor } from '../../src/store/keys.js';
import { listWindowIds } from '../../src/store/window-record.js';
import { killAll, runCli, spawnCli, type CliProcess } from '../support/cli-process.js';
import { dropPrefix, testConfig, waitFor } from '../support/context.js';
import { berlinWeekdayHour, WEEKLY_HOUR, weeklyCronAwayFromNow } from '../support/weekly-cron.js';

let sim: Simulator | undefined;
let redis: Redis | undefined;
let config: Config | undefined;
const children: CliProcess[] = [];

afterEach(async () => {
  await killAll(children);
  await redis?.quit();
  await sim?.close();
  if (config) await dropPrefix(config.prefix);
  sim = redis = config = undefined;
});

async function setup(accounts = 10) {
  sim = await startSimulator({ accounts, rateLimit: 0 });
  config = testConfig({ baseUrl: sim.url, apiKey: 'smx_root_sim_key' });
  redis = new Redis(config.redisUrl);
  const env = {
    REDIS_URL: config.redisUrl,
    QUEUE_PREFIX: config.prefix,
    SENDMUX_BASE_URL: sim.url,
    SENDMUX_API_KEY: 'smx_root_sim_key',
    SENDMUX_RATE_LIMIT: '0',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
  };
  const keys = keysFor(config.prefix);
  const s = sim;
  const r = redis;
  return {
    env,
    keys,
    sim: s,
    redis: r,
    worker() {
      const w = spawnCli(['worker'], env);
      children.push(w);
      return w;
    },
    async events(): Promise<StreamEvent[]> {
      return (await readRecentEvents(r, keys, { limit: 1000 })).filter((e) =>
        e.type.startsWith('window.'),
      );
    },
    calls: (id: string) => s.stats().executions.byAccount[id] ?? { activate: 0, deactivate: 0 },
  };
}

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const ACCOUNTS = [simAccountId(1), simAccountId(2), simAccountId(3)];

describe('window commands and worker processes', () => {
  it('refuses bad windows with exit 2 naming the field, storing nothing; prints JSON', async () => {
    const t = await setup();
    const bad: [string[], RegExp][] = [
      [['--start', 'soon', '--end', inMs(60_000)], /--start: must be an ISO-8601 time/],
      [['--start', inMs(60_000), '--end', inMs(30_000)], /--end: must be after --start/],
      [['--cron', '0 2 * * 0', '--duration', '2h', '--tz', 'Nowhere/X'], /--tz: "Nowhere\/X"/],
      [['--cron', '61 2 * * 0', '--duration', '2h'], /--cron: "61 2 \* \* 0" is not a valid/],
    ];
    for (const [args, message] of bad) {
      const r = await runCli(
        ['window', 'create', '--accounts', ACCOUNTS.join(','), ...args],
        t.env,
      );
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(await listWindowIds(t.redis, t.keys)).toEqual([]);

    const created = await runCli(
      ['window', 'create', '--accounts', ACCOUNTS[0] ?? '', '--cron', '0 2 * * 0'],
      t.env,
    );
    expect(created.code).toBe(2);
    expect(created.stderr).toMatch(/--duration: required with --cron/);
    const weekly = weeklyCronAwayFromNow(); // days away whatever day this runs
    const ok = await runCli(
      [
        'window',
        'create',
        '--id',
        'weekly',
        '--accounts',
        ACCOUNTS.join(','),
        '--cron',
        weekly.cron,
        '--duration',
        '2h',
        '--tz',
        'Europe/Berlin',
        '--json',
      ],
      t.env,
    );
    expect(ok.code, ok.stderr).toBe(0);
    const w = JSON.parse(ok.stdout) as { window_id: string; next_starts: string[] };
    expect(w.window_id).toBe('weekly');
    expect(berlinWeekdayHour(new Date(w.next_starts[0] ?? ''))).toEqual({
      weekday: weekly.weekday,
      hour: WEEKLY_HOUR,
    });
    const list = await runCli(['window', 'list'], t.env);
    expect(list.stdout).toContain(`"${weekly.cron}" Europe/Berlin for 2h`);
    expect(list.stdout).toMatch(/weekly\s+scheduled\s/);
    const missing = await runCli(['window', 'show', 'nope'], t.env);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/window "nope": no such window/);
    const cancel = await runCli(['window', 'cancel', 'weekly', '--json'], t.env);
    expect(JSON.parse(cancel.stdout)).toEqual({ window_id: 'weekly', was: 'future', ended: [] });
  });

  it('a one-off window that has run shows over; delete removes it, refuses a running one (exit 1)', async () => {
    const t = await setup();
    const worker = t.worker();
    await worker.waitForOutput(/worker started/);
    const create = (id: string, account: string, startMs: number, endMs: number) =>
      runCli(
        [
          'window',
          'create',
          '--id',
          id,
          '--accounts',
          account,
          '--start',
          inMs(startMs),
          '--end',
          inMs(endMs),
        ],
        t.env,
      );
    // Starts a few seconds away: the CLI's start-up must not make them past.
    const brief = await create('brief', ACCOUNTS[0] ?? '', 3_000, 4_000);
    expect(brief.code, brief.stderr).toBe(0);
    const long = await create('long', ACCOUNTS[1] ?? '', 3_000, 60_000);
    expect(long.code, long.stderr).toBe(0);
    await waitFor(
      async () =>
        (await t.events()).filter((e) => e.type === 'window.ended').length >= 1 || undefined,
      20_000,
      'the brief window ended',
    );
    const list = await runCli(['window', 'list'], t.env);
    expect(list.stdout).toMatch(/brief\s+over\s/);
    expect(list.stdout).toMatch(/long\s+running since /);
    const listJson = JSON.parse((await runCli(['window', 'list', '--json'], t.env)).stdout) as {
      window_id: string;
      state: string;
    }[];
    expect(listJson.find((w) => w.window_id === 'brief')?.state).toBe('over');
    expect((await runCli(['window', 'show', 'brief'], t.env)).stdout).toMatch(
      /^window brief \(over\)/,
    );
    const shown = JSON.parse(
      (await runCli(['window', 'show', 'brief', '--json'], t.env)).stdout,
    ) as {
      state: string;
    };
    expect(shown.state).toBe('over');

    const refused = await runCli(['window', 'delete', 'long'], t.env);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/window "long": active .*`window cancel long`/);
    const deleted = await runCli(
      ['--actor', 'ops-bob', 'window', 'delete', 'brief', '--json'],
      t.env,
    );
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ window_id: 'brief', deleted: true, was: 'over' });
    expect(await listWindowIds(t.redis, t.keys)).toEqual(['long']);
    expect((await runCli(['window', 'delete', 'brief'], t.env)).code).toBe(4);
    const events = await runCli(['events', '--type', 'window.deleted'], t.env);
    expect(events.stdout).toMatch(/window\.deleted\s+brief\s+deleted \(over\) by ops-bob/);
  });

  it('two workers, one killed mid-window: one start, one end, one call each way', async () => {
    const t = await setup();
    const [w1, w2] = [t.worker(), t.worker()];
    await w1.waitForOutput(/worker started/);
    await w2.waitForOutput(/worker started/);
    const created = await runCli(
      [
        'window',
        'create',
        '--accounts',
        ACCOUNTS.join(','),
        '--start',
        inMs(2_000),
        '--end',
        inMs(7_000),
      ],
      t.env,
    );
    expect(created.code, created.stderr).toBe(0);
    await waitFor(
      async () => ((await t.events()).length >= 1 ? true : undefined),
      15_000,
      'window.started',
    );
    const holds = await runCli(['holds', '--json'], t.env);
    const held = JSON.parse(holds.stdout) as { account_id: string; holds: { source: string }[] }[];
    expect(held.map((h) => h.account_id).sort()).toEqual(ACCOUNTS);
    expect(held.every((h) => h.holds[0]?.source === 'window')).toBe(true);
    w1.child.kill('SIGKILL');
    await w1.exited;
    await waitFor(
      async () => ((await t.events()).length >= 2 ? true : undefined),
      20_000,
      'window.ended',
    );
    await waitFor(
      () => (ACCOUNTS.every((id) => t.calls(id).activate === 1) ? true : undefined),
      15_000,
      'every account back on',
    );
    expect((await t.events()).map((e) => e.type)).toEqual(['window.started', 'window.ended']);
    for (const id of ACCOUNTS) {
      expect(t.calls(id)).toEqual({ activate: 1, deactivate: 1 });
      expect(t.sim.account(id)?.status).toBe('active');
    }
  });

  it('a start missed while no worker ran runs late, once, when two workers come up', async () => {
    const t = await setup();
    const created = await runCli(
      [
        'window',
        'create',
        '--accounts',
        ACCOUNTS.join(','),
        '--start',
        inMs(500),
        '--end',
        inMs(9_000),
        '--json',
      ],
      t.env,
    );
    expect(created.code, created.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 1_500));
    t.worker();
    t.worker();
    await waitFor(
      async () => ((await t.events()).length >= 2 ? true : undefined),
      25_000,
      'window.started and window.ended',
    );
    const [started, ended] = await t.events();
    expect(started).toMatchObject({ type: 'window.started', switched_off: ACCOUNTS });
    expect((started as { late_ms: number }).late_ms).toBeGreaterThan(1_000);
    expect(ended).toMatchObject({ type: 'window.ended', reactivated: ACCOUNTS });
    await waitFor(
      () => (ACCOUNTS.every((id) => t.calls(id).activate === 1) ? true : undefined),
      15_000,
      'every account back on',
    );
    for (const id of ACCOUNTS) expect(t.calls(id)).toEqual({ activate: 1, deactivate: 1 });
  });

  it('SIGTERM while a start retries reads of unreadable accounts: the worker exits within SHUTDOWN_TIMEOUT_MS', async () => {
    const t = await setup(40);
    const ids = Array.from({ length: 40 }, (_, i) => simAccountId(i + 1));
    // Every read fails: reading them all, with retries and backoff, takes far longer than the
    // stop may (40 accounts x 4 tries).
    for (const id of ids) t.sim.setReadable(id, false);
    const created = await runCli(
      [
        'window',
        'create',
        '--accounts',
        ids.join(','),
        '--start',
        inMs(300),
        '--end',
        inMs(60_000),
      ],
      t.env,
    );
    expect(created.code, created.stderr).toBe(0);
    const worker = spawnCli(['worker'], {
      ...t.env,
      SENDMUX_TIMEOUT_MS: '2000',
      SHUTDOWN_TIMEOUT_MS: '3000',
    });
    children.push(worker);
    await waitFor(
      () => (t.sim.stats().faults.error500 >= 3 ? true : undefined),
      20_000,
      'failed reads',
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${worker.output()}`);
    });
    const asked = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const took = Date.now() - asked;
    expect(took, worker.output()).toBeLessThan(3_000 + 2_000);
    // Nothing started: the step runs again on the next worker (it is idempotent).
    expect((await t.events()).filter((e) => e.type === 'window.started')).toEqual([]);
  });
});
