/**
 * `breaker backtest` as a user runs it: from a file with two candidate rule sets (--json against
 * the wire schema, and the table), a bad --rules file (exit 2 naming the field), the webhook
 * inbox in Redis beside the live breaker's events, and the delivery logs of the simulator (paged,
 * through the rate budget).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';
import { keysFor } from '../../src/store/keys.js';
import { readRateBudget } from '../../src/store/rate-budget.js';
import { appendToInbox } from '../../src/store/webhook-inbox-append.js';
import { backtestSchema, type BacktestView } from '../../src/wire/backtest.js';
import { runCli } from '../support/cli-process.js';
import { dropPrefix, testConfig } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();

const config = testConfig();
const env = {
  REDIS_URL: config.redisUrl,
  QUEUE_PREFIX: config.prefix,
  LOG_LEVEL: 'silent',
  BREAKER_BOUNCE_MIN_VOLUME: '20',
  BREAKER_BOUNCE_RATE: '0.3',
  BREAKER_BOUNCE_WARN_RATE: '0.1',
};
const T0 = Date.parse('2026-12-01T12:00:00Z');
let dir: string;
let sim: Simulator;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdx-backtest-e2e-'));
  sim = await startSimulator({ accounts: 3, rateLimit: 1000 });
});

afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
  await dropPrefix(config.prefix);
});

/** A signal line: account, hard bounce or delivered, seconds after T0. */
const line = (i: number, account: string, hard: boolean) =>
  JSON.stringify({
    id: `evt_bt_${i}`,
    account_id: account,
    outcome: hard ? 'bounced' : 'delivered',
    ...(hard ? { bounce_type: 'Permanent' } : {}),
    occurred_at: new Date(T0 + i * 1000).toISOString(),
  });

function parsed(stdout: string): BacktestView {
  return backtestSchema.parse(JSON.parse(stdout));
}

describe('breaker backtest CLI', () => {
  it('compares two candidate rule sets with the current settings on one file', async () => {
    // dprov_bt_a: 20 % hard bounces; dprov_bt_b: 2 %. Written out of order (sorted by the replay).
    const lines: string[] = [];
    for (let i = 0; i < 100; i++) lines.push(line(i, 'dprov_bt_a', i % 5 === 0));
    for (let i = 100; i < 200; i++) lines.push(line(i, 'dprov_bt_b', i % 50 === 0));
    lines.reverse();
    lines.splice(10, 0, 'garbage');
    const file = join(dir, 'history.ndjson');
    await writeFile(file, `${lines.join('\n')}\n`);
    await writeFile(join(dir, 'loose.json'), JSON.stringify({ global: { bounce_rate: 0.5 } }));
    await writeFile(
      join(dir, 'strict.json'),
      JSON.stringify({
        global: { bounce_rate: 0.15, bounce_warn_rate: 0.01 },
        accounts: { dprov_bt_b: { bounce_rate: 0.02, bounce_min_volume: 50 } },
      }),
    );
    const args = [
      'breaker',
      'backtest',
      '--file',
      file,
      '--rules',
      join(dir, 'loose.json'),
      '--rules',
      `tight=${join(dir, 'strict.json')}`,
    ];
    const r = await runCli([...args, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const view = parsed(r.stdout);
    expect(view.source).toMatchObject({
      kind: 'file',
      read: 201,
      signals: 200,
      skipped: 1,
      skipped_reasons: [{ reason: 'not JSON', count: 1, where: ['11'] }],
      from: '2026-12-01T12:00:00.000Z',
    });
    const summary = view.rule_sets.map((s) => ({
      name: s.name,
      trips: s.trips,
      warnings: s.warnings,
      tripped: s.accounts.filter((a) => a.trips.length > 0).map((a) => a.account_id),
    }));
    expect(summary).toEqual([
      // current: 20 % warns (10 %) on a, never trips (30 %); b's 2 % is quiet.
      { name: 'current', trips: 0, warnings: 1, tripped: [] },
      { name: 'loose', trips: 0, warnings: 1, tripped: [] },
      // tight: a trips at 15 % once 20 signals are in; b at 2 % once 50 are.
      { name: 'tight', trips: 2, warnings: 0, tripped: ['dprov_bt_a', 'dprov_bt_b'] },
    ]);
    const tight = view.rule_sets[2]?.accounts.find((a) => a.account_id === 'dprov_bt_a');
    expect(tight?.trips[0]).toMatchObject({
      at: new Date(T0 + 19_000).toISOString(),
      reason: 'bounce_rate',
      numbers: { delivered: 16, hard_bounced: 4, bounce_rate: 0.2 },
    });

    const text = await runCli(args, env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('rules tight: 2 trips on 2 accounts, 0 warnings on 0 accounts');
    expect(text.stdout).toContain('rules current: 0 trips on 0 accounts, 1 warning on 1 account');
    expect(text.stdout).toMatch(/dprov_bt_a +2026-12-01T12:00:19Z \(1x\)/);
    expect(text.stdout).toContain('every account is taken as mode act');
  });

  it('a bad --rules file exits 2 naming the file and the field', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ global: { bounce_min_volume: 1.5 } }));
    const file = join(dir, 'one.ndjson');
    await writeFile(file, `${line(1, 'dprov_bt_a', false)}\n`);
    const r = await runCli(['breaker', 'backtest', '--file', file, '--rules', bad, '--json'], env);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        code: 'invalid_input',
        message: `--rules ${bad}: global.bounce_min_volume must be an integer`,
      },
    });
    expect(r.stderr).toContain('global.bounce_min_volume');
    // --strict: a line that is not a signal is an error, naming where.
    await writeFile(file, `${line(1, 'dprov_bt_a', false)}\n{"id": 1}\n`);
    const strict = await runCli(['breaker', 'backtest', '--file', file, '--strict', '--json'], env);
    expect(strict.code).toBe(2);
    expect(JSON.parse(strict.stdout)).toMatchObject({ error: { code: 'invalid_input' } });
    expect(strict.stderr).toMatch(
      /--strict: 1 entries are not signals: invalid signal: .* \(at 2\)/,
    );
  });

  it('from Redis: the inbox webhooks through the sender map, beside the live breaker events', async () => {
    const redis = new Redis(config.redisUrl);
    const keys = keysFor(config.prefix);
    try {
      const now = Date.now();
      for (let i = 0; i < 25; i++) {
        const body = JSON.stringify({
          id: `evt_inbox_${i}`,
          type: i % 2 === 0 ? 'message.bounced' : 'message.delivered',
          occurred_at: new Date(now - 60_000 + i * 1000).toISOString(),
          data: { sender: 'alerts@bt.example', bounce_type: 'Permanent' },
        });
        await appendToInbox(
          redis,
          keys,
          { id: `evt_inbox_${i}`, type: 'message.bounced', body },
          { dedupeTtlS: 3600, maxLen: 1000, maxBytes: 10_000_000 },
        );
      }
    } finally {
      await redis.quit();
    }
    const trip = await runCli(['breaker', 'trip', 'dprov_bt_inbox', '--reason', 'by hand'], env);
    expect(trip.code, trip.stderr).toBe(0);
    const r = await runCli(['breaker', 'backtest', '--from', 'redis', '--json'], {
      ...env,
      BREAKER_SENDER_MAP: JSON.stringify({ 'alerts@bt.example': 'dprov_bt_inbox' }),
    });
    expect(r.code, r.stderr).toBe(0);
    const view = parsed(r.stdout);
    expect(view.source).toMatchObject({ kind: 'redis', read: 25, signals: 25, skipped: 0 });
    expect(view.rule_sets[0]?.accounts.map((a) => [a.account_id, a.trips.length])).toEqual([
      ['dprov_bt_inbox', 1],
    ]);
    expect(view.actual?.accounts).toEqual([
      {
        account_id: 'dprov_bt_inbox',
        events: [{ type: 'breaker.tripped', at: expect.any(String) as string, reason: 'manual' }],
      },
    ]);
  });

  it('from the delivery logs of the simulator, paged, through the rate budget', async () => {
    sim.reset();
    const [a, b] = [simAccountId(1), simAccountId(2)];
    const logs = [];
    // 150 logs over 150 s: two pages of 100. Account a: every third failed (33 %); b all sent.
    for (let i = 0; i < 150; i++) {
      const account = i % 2 === 0 ? a : b;
      logs.push({
        provider_id: account,
        message_id: `<m${i}@bt.example>`,
        status: account === a && i % 3 === 0 ? ('failed' as const) : ('sent' as const),
        created_at: new Date(T0 + i * 1000).toISOString(),
      });
    }
    // Before --since: never read.
    logs.push({
      provider_id: b,
      message_id: '<old@bt.example>',
      status: 'failed' as const,
      created_at: new Date(T0 - 3_600_000).toISOString(),
    });
    logs.push({
      provider_id: a,
      message_id: '<pending@bt.example>',
      status: 'pending' as const,
      created_at: new Date(T0 + 151_000).toISOString(),
    });
    sim.addDeliveryLogs(logs);
    const r = await runCli(
      ['breaker', 'backtest', '--from', 'logs', '--since', new Date(T0).toISOString(), '--json'],
      { ...env, SENDMUX_BASE_URL: sim.url, SENDMUX_API_KEY: 'smx_root_sim_key' },
    );
    expect(r.code, r.stderr).toBe(0);
    const view = parsed(r.stdout);
    expect(view.source).toMatchObject({ kind: 'logs', read: 151, signals: 150, skipped: 1 });
    expect(view.source.skipped_reasons[0]?.reason).toBe('delivery log status pending: no outcome');
    expect(view.rule_sets[0]?.accounts.map((acc) => [acc.account_id, acc.trips.length])).toEqual([
      [a, 1],
    ]);
    // Each page went through the key's budget: its answer's window is recorded.
    const redis = new Redis(config.redisUrl);
    try {
      expect((await readRateBudget(redis, keysFor(config.prefix))).limit).toBe(1000);
    } finally {
      await redis.quit();
    }
    expect(sim.stats().requests).toBeGreaterThanOrEqual(2);
  });
});
