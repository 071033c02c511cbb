/** The CLI's contract: commands, JSON fields and exit codes, run as real processes. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';
import { seenState } from '../../src/store/hold-record.js';
import { readHolds, takeHold } from '../../src/store/holds.js';
import { keysFor } from '../../src/store/keys.js';
import { startWorker, type ActionWorker } from '../../src/worker/worker.js';
import { runCli, spawnCli } from '../support/cli-process.js';
import { dropPrefix, testConfig } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();

let sim: Simulator;
let config: Config;
let worker: ActionWorker;
let redis: Redis;
let env: Record<string, string>;

beforeAll(async () => {
  sim = await startSimulator({ accounts: 10, rateLimit: 0 });
  config = testConfig({ baseUrl: sim.url, apiKey: 'smx_root_sim_key' });
  worker = await startWorker({ config, logger: createLogger({ level: 'silent', pretty: false }) });
  redis = new Redis(config.redisUrl);
  env = { REDIS_URL: config.redisUrl, QUEUE_PREFIX: config.prefix, LOG_LEVEL: 'silent' };
});

afterAll(async () => {
  await worker.close(2_000);
  await redis.quit();
  await sim.close();
  await dropPrefix(config.prefix);
});

describe('sendmux-deactivator CLI', () => {
  it('deactivate --wait --json succeeds with exit 0 and reports each intent', async () => {
    const r = await runCli(
      [
        'deactivate',
        simAccountId(1),
        '--key',
        'cli-ok-1',
        '--reason',
        'cli test',
        '--wait',
        '--json',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(out).toEqual([
      expect.objectContaining({
        account_id: simAccountId(1),
        idempotency_key: 'cli-ok-1',
        job_id: expect.stringMatching(/^k-cli-ok-1@\d+$/) as string,
        enqueue: 'enqueued',
        state: 'succeeded',
      }),
    ]);
  });

  it('deactivate --wait exits 1 when an action fails', async () => {
    const r = await runCli(
      ['deactivate', simAccountId(2), 'dprov_nosuchaccount', '--wait', '--json'],
      env,
    );
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as {
      account_id: string;
      state: string;
      http_status: number | null;
      error_code: string | null;
      idempotency_key: string;
    }[];
    expect(out.find((o) => o.account_id === 'dprov_nosuchaccount')).toMatchObject({
      state: 'failed',
      http_status: 404,
      error_code: 'not_found',
    });
    expect(out.find((o) => o.account_id === simAccountId(2))?.state).toBe('succeeded');
    expect(out.every((o) => o.idempotency_key.startsWith('deactivate-'))).toBe(true); // fresh UUID-based keys
  });

  it('exits 2 on invalid input, naming the argument and rule, and enqueues nothing', async () => {
    const idemKeys = async () => (await redis.keys(`${config.prefix}:idem:*`)).length;
    const jobKeys = async () => (await redis.keys(`${config.prefix}:actions:k-*`)).length;
    const before = [await idemKeys(), await jobKeys()];
    const bad = await runCli(['deactivate', simAccountId(3), 'not-an-id'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /item 2: account_id must be a sending account id.*\(got "not-an-id"\)/,
    );
    const twoIdsOneKey = await runCli(
      ['activate', simAccountId(3), simAccountId(4), '--key', 'k'],
      env,
    );
    expect(twoIdsOneKey.code).toBe(2);
    expect(twoIdsOneKey.stderr).toMatch(
      /--key: can only be used with exactly one account id \(got 2\)/,
    );
    const badConfig = await runCli(['deactivate', simAccountId(3)], {
      ...env,
      REDIS_URL: 'http://nope',
    });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/REDIS_URL: must be a URL with scheme redis:\/\//);
    const badFlag = await runCli(['events', '--limit', 'lots'], env);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--limit must be an integer/);
    expect([await idemKeys(), await jobKeys()]).toEqual(before);
  });

  it('exits 2 when a key is reused for another intent', async () => {
    const first = await runCli(
      ['deactivate', simAccountId(5), '--key', 'cli-reuse', '--wait'],
      env,
    );
    expect(first.code).toBe(0);
    const again = await runCli(
      ['deactivate', simAccountId(5), '--key', 'cli-reuse', '--json'],
      env,
    );
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual([
      expect.objectContaining({ enqueue: 'duplicate', state: 'succeeded' }),
    ]);
    const other = await runCli(['activate', simAccountId(5), '--key', 'cli-reuse'], env);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/idempotency key "cli-reuse" is already used for another intent/);
  });

  it('status --json and events --json print the documented fields', async () => {
    // Self-contained: one success and one failure of its own.
    expect(
      (await runCli(['deactivate', simAccountId(6), '--key', 'cli-status-6', '--wait'], env)).code,
    ).toBe(0);
    expect(
      (await runCli(['deactivate', 'dprov_gone6', '--key', 'cli-status-gone', '--wait'], env)).code,
    ).toBe(1);
    const status = await runCli(['status', simAccountId(6), '--json'], env);
    expect(status.code).toBe(0);
    const [s] = JSON.parse(status.stdout) as Record<string, unknown>[];
    expect(s).toMatchObject({
      account_id: simAccountId(6),
      status: 'inactive',
      is_active: false,
      last_action: 'deactivate',
      idempotency_key: 'cli-status-6',
    });
    expect(s).toHaveProperty('updated_at');
    expect(s?.request_id).toMatch(/^req_/);

    const all = await runCli(['status', '--json'], env);
    const ids = (JSON.parse(all.stdout) as { account_id: string }[]).map((x) => x.account_id);
    expect(ids).toEqual(expect.arrayContaining([simAccountId(6), 'dprov_gone6']));
    expect(ids[0]).toBe('dprov_gone6'); // most recently changed first

    const events = await runCli(['events', '--type', 'action.failed', '--json'], env);
    expect(events.code).toBe(0);
    const lines = events.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({
      account_id: 'dprov_gone6',
      action: 'deactivate',
      idempotency_key: 'cli-status-gone',
      http_status: 404,
      error_code: 'not_found',
      attempts: 1,
    });
    for (const e of lines) {
      expect(e.type).toBe('action.failed');
      for (const field of [
        'account_id',
        'action',
        'idempotency_key',
        'http_status',
        'error_code',
        'request_id',
        'attempts',
        'at',
      ]) {
        expect(e, field).toHaveProperty(field);
      }
    }
    const limited = await runCli(['events', '--limit', '2', '--json'], env);
    const lastTwo = limited.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { idempotency_key: string });
    expect(lastTwo.map((e) => e.idempotency_key)).toEqual(['cli-status-6', 'cli-status-gone']);
  });

  it('status of an account with nothing recorded says so and exits 4; a malformed id exits 2', async () => {
    const unknown = await runCli(['status', 'dprov_never_touched'], env);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/account "dprov_never_touched": no recorded status/);
    expect(unknown.stdout).toBe('');
    const bad = await runCli(['status', 'not-an-id'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/account: "not-an-id" must be a sending account id/);
  });

  it('asks once for an id given twice, says so, and reports http_status 200 on success', async () => {
    const r = await runCli(
      ['deactivate', simAccountId(9), simAccountId(9), '--wait', '--json', '--reason', 'twice'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/asked once for each repeated id: dprov_sim000009/);
    const out = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      state: 'succeeded',
      http_status: 200,
      account_status: 'inactive',
    });
  });

  it('--wait with no worker warns, prints the keys first, and --wait-timeout ends with exit 3', async () => {
    const lonely = { ...env, QUEUE_PREFIX: `{sdxt-noworker-${Date.now()}}` };
    try {
      const r = await runCli(
        ['deactivate', simAccountId(10), '--key', 'cli-nobody', '--wait', '--wait-timeout', '1'],
        lonely,
      );
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/enqueued: dprov_sim000010 key=cli-nobody/);
      expect(r.stderr).toMatch(/no worker is connected to the queue/);
      expect(r.stderr).toMatch(/timed out after 1s: the actions stay queued/);
      const noWait = await runCli(['deactivate', simAccountId(10), '--wait-timeout', '1'], lonely);
      expect(noWait.code).toBe(2);
      expect(noWait.stderr).toMatch(/--wait-timeout: needs --wait/);
    } finally {
      await dropPrefix(lonely.QUEUE_PREFIX);
    }
  });

  it('names an unreachable Redis plainly (no ioredis internals, no password) and exits 1', async () => {
    const r = await runCli(['deactivate', simAccountId(11)], {
      ...env,
      REDIS_URL: 'redis://:hunter2@127.0.0.1:1',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 \(REDIS_URL\)/,
    );
    expect(r.stderr).not.toMatch(/maxRetriesPerRequest|hunter2/);
  });

  it('names an unreachable Redis Cluster (REDIS_CLUSTER_NODES) and exits 1, without waiting for it', async () => {
    // A Cluster client keeps commands queued while no node answers: `events` waited forever.
    const r = await runCli(['events', '--limit', '1'], {
      ...env,
      REDIS_URL: 'redis://:hunter2@ignored:6379',
      REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot reach the Redis Cluster at 127\.0\.0\.1:1,127\.0\.0\.1:2 \(REDIS_CLUSTER_NODES\)/,
    );
    expect(r.stderr).not.toMatch(/hunter2/);
  });

  it('hides a password given in the query string (?password=) too', async () => {
    const r = await runCli(['deactivate', simAccountId(11)], {
      ...env,
      REDIS_URL: 'redis://127.0.0.1:1/?password=hunter3&db=0',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/\?password=\*\*\*&db=0 \(REDIS_URL\)/,
    );
    expect(r.stderr).not.toContain('hunter3');
  });

  it('sim prints its API key and the ids it seeds', async () => {
    const sim2 = spawnCli(['sim', '--port', '0', '--accounts', '3'], {});
    try {
      await sim2.waitForOutput(/accounts:/);
      expect(sim2.output()).toMatch(/SENDMUX_API_KEY=smx_root_sim_key/);
      expect(sim2.output()).toMatch(/dprov_sim000001 \.\. dprov_sim000003/);
      expect(sim2.output()).toMatch(/dprov_sim_ses_shared/);
      sim2.child.kill('SIGINT');
      expect(await sim2.exited).toBe(0);
    } finally {
      if (sim2.child.exitCode === null) sim2.child.kill('SIGKILL');
    }
  });

  it('events --follow prints new events as they happen and exits 0 on SIGINT', async () => {
    const follow = spawnCli(
      ['events', '--follow', '--json', '--type', 'action.succeeded', '--limit', '1'],
      env,
    );
    try {
      // The history (--limit 1) is printed before the tail starts: wait for the tail, so the
      // event below can only come from following, not from history.
      await follow.waitForOutput(/following new events/);
      const before = follow.output();
      expect(before).not.toContain('cli-follow-8');
      expect(
        (await runCli(['deactivate', simAccountId(8), '--key', 'cli-follow-8', '--wait'], env))
          .code,
      ).toBe(0);
      await follow.waitForOutput(/"idempotency_key":"cli-follow-8"/);
      follow.child.kill('SIGINT');
      expect(await follow.exited).toBe(0);
    } finally {
      if (follow.child.exitCode === null) follow.child.kill('SIGKILL');
    }
  });

  it('activate of an account another source holds off: not activated, the holds named, exit 1', async () => {
    const id = simAccountId(7);
    const keys = keysFor(config.prefix);
    const off = await runCli(['deactivate', id, '--wait'], env);
    expect(off.code, off.stderr).toBe(0);
    // No SENDMUX_API_KEY here: the manual hold's before is unknown, and the command says so.
    expect(off.stderr).toContain('no API key (SENDMUX_API_KEY)');
    await takeHold(
      redis,
      keys,
      id,
      { id: 'breaker', source: 'breaker', ref: 't' },
      seenState('active'),
    );
    await takeHold(redis, keys, id, { id: 'window:w1:o1', source: 'window' }, seenState('active'));

    const r = await runCli(['activate', id, '--json'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${id}: not activated, still held off by breaker, window:w1:o1`);
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({
        account_id: id,
        enqueue: 'held',
        state: 'held',
        held_by: ['breaker', 'window:w1:o1'],
        idempotency_key: '',
        job_id: '',
      }),
    ]);
    expect(sim.account(id)?.status).toBe('inactive');
    // Its own hold is released; the others stay.
    expect((await readHolds(redis, keys, id)).holds.map((h) => h.id)).toEqual([
      'breaker',
      'window:w1:o1',
    ]);
    const help = await runCli(['activate', '--help'], env);
    expect(help.stdout).toMatch(/still holds off.*exit code is 1/s);
  });
});
