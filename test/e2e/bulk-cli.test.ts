/** `bulk` and `batch` as real processes: JSON fields, exit codes, stdin, and resume after SIGKILL. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { bulkKey } from '../../src/producers/bulk/run.js';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';
import { seenState } from '../../src/store/hold-record.js';
import { readHolds, takeHold } from '../../src/store/holds.js';
import { keysFor } from '../../src/store/keys.js';
import { startWorker, type ActionWorker } from '../../src/worker/worker.js';
import { BIN, runCli, spawnCli } from '../support/cli-process.js';
import { dropPrefix, testConfig } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();

const ACCOUNTS = 3000;
let sim: Simulator;
let config: Config;
let worker: ActionWorker;
let redis: Redis;
let env: Record<string, string>;

beforeAll(async () => {
  sim = await startSimulator({ accounts: ACCOUNTS, rateLimit: 0 });
  config = testConfig({ baseUrl: sim.url, apiKey: 'smx_root_sim_key' });
  worker = await startWorker({ config, logger: createLogger({ level: 'silent', pretty: false }) });
  redis = new Redis(config.redisUrl);
  env = {
    REDIS_URL: config.redisUrl,
    QUEUE_PREFIX: config.prefix,
    LOG_LEVEL: 'silent',
    SENDMUX_BASE_URL: sim.url,
    SENDMUX_API_KEY: 'smx_root_sim_key',
  };
});

afterAll(async () => {
  await worker.close(2_000);
  await redis.quit();
  await sim.close();
  await dropPrefix(config.prefix);
});

async function idsFile(name: string, ids: readonly string[]): Promise<string> {
  const path = join(tmpdir(), `sdx-bulk-cli-${process.pid}-${name}`);
  await writeFile(path, `${ids.join('\n')}\n`);
  return path;
}

describe('bulk CLI', () => {
  it('bulk --file --wait --json: exit 0 and the summary fields', async () => {
    const path = await idsFile('ok.txt', [simAccountId(1), simAccountId(2), simAccountId(3)]);
    const r = await runCli(
      ['bulk', '--file', path, '--batch-id', 'cli-ok', '--wait', '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      batch_id: 'cli-ok',
      pass: { batch_id: 'cli-ok', enqueued: 3, skipped: 0, invalid: 0, duplicates: 0 },
      batch: { total: 3, succeeded: 3, failed: 0 },
      done: true,
    });
    expect(r.stderr).toContain('batch cli-ok (deactivate, pass 1): 3 enqueued');

    const csv = await runCli(['batch', 'report', 'cli-ok', '--format', 'csv'], env);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'account_id,outcome,status,error_code,http_status,request_id,attempts,at,status_now,held_by,undo,undo_activation',
    );
    expect(lines.slice(1).sort()).toHaveLength(3);
    expect(lines[1]).toMatch(/^dprov_\w+,succeeded,inactive,,200,req_\w+,1,20\d\d-/);

    const json = await runCli(['batch', 'report', 'cli-ok', '--format', 'json'], env);
    const rows = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { outcome: string });
    expect(rows.map((x) => x.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded']);

    const status = await runCli(['batch', 'status', 'cli-ok', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ batch_id: 'cli-ok', succeeded: 3 });
    const list = await runCli(['batch', 'list', '--json'], env);
    expect((JSON.parse(list.stdout) as { batch_id: string }[]).map((b) => b.batch_id)).toContain(
      'cli-ok',
    );
  });

  it('bulk --file - reads stdin and drops repeats; a generated batch id is printed', async () => {
    const r = await runCli(
      ['bulk', '--file', '-', '--json'],
      env,
      [],
      `id\n${simAccountId(4)}\n${simAccountId(5)}\n${simAccountId(4)}\n`,
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { batch_id: string };
    expect(summary).toMatchObject({ batch: { total: 2 }, pass: { duplicates: 1 } });
    expect(summary.batch_id).toMatch(/^bulk-\d{8}-\d{6}-[0-9a-f]{6}$/);
    expect(r.stderr).toContain(`--batch-id ${summary.batch_id}`);
  });

  it('an invalid line: exit 2, the line named, nothing enqueued', async () => {
    const before = await redis.zcard(keysFor(config.prefix).batchIndex);
    const path = await idsFile('bad.txt', [simAccountId(6), 'oops', simAccountId(7)]);
    const r = await runCli(['bulk', '--file', path], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('line 2: "oops" must be a sending account id');
    expect(r.stderr).toContain('nothing was enqueued');
    expect(await redis.zcard(keysFor(config.prefix).batchIndex)).toBe(before);
  });

  it('a binary file: exit 2, its invalid lines shown escaped, never raw bytes', async () => {
    const path = join(tmpdir(), `sdx-bulk-cli-${process.pid}-binary.bin`);
    const bytes = Buffer.alloc(64 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) % 256;
    await writeFile(path, bytes);
    const r = await runCli(['bulk', '--file', path], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line \d+: ".*\\x/);
    // Printable ASCII and line breaks only: no escape sequence reaches the terminal.
    expect(r.stderr).toMatch(/^[\x20-\x7e\n]*$/);
    expect(r.stdout).toMatch(/^[\x20-\x7e\n]*$/);
    expect(Math.max(...r.stderr.split('\n').map((l) => l.length))).toBeLessThan(300);
  });

  it('usage errors exit 2; an unknown batch exits 4; a failed account exits 1', async () => {
    expect((await runCli(['bulk'], env)).code).toBe(2);
    expect((await runCli(['bulk', '--ids', simAccountId(1), '--file', 'x'], env)).code).toBe(2);
    expect((await runCli(['bulk', '--ids', simAccountId(1), '--action', 'pause'], env)).code).toBe(
      2,
    );
    expect(
      (await runCli(['bulk', '--ids', simAccountId(1), '--wait-timeout', '3'], env)).code,
    ).toBe(2);
    const unknown = await runCli(['batch', 'status', 'no-such-batch'], env);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('batch "no-such-batch": no such batch');
    for (const sub of [['report'], ['cancel']]) {
      const r = await runCli(['batch', ...sub, 'no-such-batch'], env);
      expect(r.code, sub[0]).toBe(4);
      expect(r.stderr).toContain('batch "no-such-batch": no such batch');
    }
    const failed = await runCli(
      ['bulk', '--ids', `${simAccountId(8)},dprov_missing`, '--wait', '--json'],
      env,
    );
    expect(failed.code, failed.stderr).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      batch: { total: 2, succeeded: 1, failed: 1 },
    });
  });

  it('--dry-run --json: what would happen, exit 0, nothing enqueued; bad --filter exits 2', async () => {
    const keys = keysFor(config.prefix);
    const batchesBefore = await redis.zcard(keys.batchIndex);
    const executionsBefore = sim.stats().executions.total;
    const r = await runCli(
      [
        'bulk',
        '--ids',
        `${simAccountId(20)},dprov_sim_ses_shared,dprov_nobody`,
        '--dry-run',
        '--json',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      dry_run: true,
      action: 'deactivate',
      would_enqueue: 1,
      would_enqueue_ids: [simAccountId(20)],
      shared: ['dprov_sim_ses_shared'],
      unknown: ['dprov_nobody'],
      invalid: 0,
    });
    const text = await runCli(['bulk', '--filter', 'status=active,type=smtp', '--dry-run'], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /dry run \(deactivate, --filter status=active,type=smtp\): nothing was enqueued/,
    );
    // Every account named: the first 10 of a kind in text, all with --verbose (and in JSON).
    const named = /would deactivate: (\d+) \(([^)]*)\)/.exec(text.stdout);
    const count = Number(named?.[1]);
    expect(count).toBeGreaterThan(10);
    expect(
      named?.[2]
        ?.split(', ')
        .slice(0, 10)
        .every((id) => id.startsWith('dprov_')),
    ).toBe(true);
    expect(named?.[2]).toContain(`... ${count - 10} more: --verbose lists all`);
    const verbose = await runCli(
      ['bulk', '--filter', 'status=active,type=smtp', '--dry-run', '--verbose'],
      env,
    );
    expect(verbose.code, verbose.stderr).toBe(0);
    const all = /would deactivate: (\d+) \(([^)]*)\)/.exec(verbose.stdout)?.[2]?.split(', ') ?? [];
    expect(all).toHaveLength(count);
    const asJson = await runCli(
      ['bulk', '--filter', 'status=active,type=smtp', '--dry-run', '--json'],
      env,
    );
    expect(
      (JSON.parse(asJson.stdout) as { would_enqueue_ids: string[] }).would_enqueue_ids,
    ).toEqual(all);
    const verboseAlone = await runCli(['bulk', '--ids', simAccountId(20), '--verbose'], env);
    expect(verboseAlone.code).toBe(2);
    expect(verboseAlone.stderr).toContain('--verbose: needs --dry-run');
    expect(await redis.zcard(keys.batchIndex)).toBe(batchesBefore);
    expect(sim.stats().executions.total).toBe(executionsBefore);

    const badField = await runCli(['bulk', '--filter', 'colour=red'], env);
    expect(badField.code).toBe(2);
    expect(badField.stderr).toContain('--filter: "colour" is not a field to filter on');
    const badValue = await runCli(['bulk', '--filter', 'status=asleep'], env);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain(
      '--filter status: must be one of active, inactive, error, pending',
    );
    const invalid = await runCli(['bulk', '--ids', `nope,${simAccountId(21)}`, '--dry-run'], env);
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toContain('item 1: "nope"');
    expect(invalid.stdout).toContain('would deactivate: 1');
  });

  it('--wait on a terminal shows a progress bar, then the summary', async () => {
    // `script` gives the CLI a pseudo-terminal, as a user's shell would.
    const ids = [simAccountId(30), simAccountId(31), simAccountId(32)].join(',');
    const r = await runCli([], env, [], undefined, {
      command: 'script',
      args: [
        '-qec',
        `${process.execPath} ${BIN} bulk --ids ${ids} --batch-id tty --wait`,
        '/dev/null',
      ],
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const esc = String.fromCharCode(27);
    const screen = r.stdout.replace(new RegExp(`${esc}\\[[0-9;?]*[A-Za-z]|${esc}[78]`, 'g'), '');
    expect(screen).toMatch(/3\/3 \| [\d.]+\/s \| ETA \d+m\d\ds \| failed 0/);
    expect(screen).toContain('done 3/3: 3 succeeded, 0 failed');
  });

  it('batch report into a reader that stops early (| head): exit 0, no EPIPE trace', async () => {
    // A prefix of its own that no worker serves: the jobs stay queued, the accounts untouched.
    const prefix = `${config.prefix}-head`;
    const headEnv = { ...env, QUEUE_PREFIX: prefix };
    const ids = Array.from({ length: 2_000 }, (_, i) => simAccountId(i + 1));
    const path = await idsFile('head.txt', ids);
    const made = await runCli(['bulk', '--file', path, '--batch-id', 'cli-head'], headEnv);
    expect(made.code, made.stderr).toBe(0);
    // ~140 KB of CSV: more than a pipe holds, so the CLI is still writing when the reader goes.
    const child = spawn(process.execPath, [BIN, 'batch', 'report', 'cli-head'], {
      env: { ...process.env, ...headEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const [first] = (await once(child.stdout, 'data')) as [Buffer];
    expect(first.toString()).toMatch(/^account_id,outcome,/);
    child.stdout.destroy();
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(stderr).toBe('');
    expect(code).toBe(0);
    await dropPrefix(prefix);
  });

  it('SIGKILLed mid-enqueue, run again: resumes, and each account is executed exactly once', async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => simAccountId(i + 100));
    const path = await idsFile('big.txt', ids);
    const keys = keysFor(config.prefix);
    const cli = spawnCli(
      ['bulk', '--file', path, '--batch-id', 'killed', '--chunk-size', '25'],
      env,
    );
    // Kill it once part of the input is in the batch, well before the end.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const total = Number((await redis.hget(keys.batch('killed'), 'total')) ?? 0);
      if (total >= 250) break;
      if (cli.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the run ended or stalled before the kill:\n${cli.output()}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    cli.child.kill('SIGKILL');
    expect(await cli.exited).toBe('SIGKILL');
    const partial = Number(await redis.hget(keys.batch('killed'), 'total'));
    expect(partial).toBeLessThan(ids.length);

    const r = await runCli(
      ['bulk', '--file', path, '--batch-id', 'killed', '--wait', '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      batch: { total: ids.length, succeeded: ids.length, failed: 0 },
    });
    const stats = sim.stats();
    for (const id of ids) {
      expect(stats.executions.byKey[bulkKey('killed', id)], id).toBe(1);
      expect(stats.executions.byAccount[id]?.deactivate, id).toBe(1);
    }
  }, 90_000);

  it('batch undo --wait --json: reactivates what the run switched off, names what stays off; twice is a no-op', async () => {
    const keys = keysFor(config.prefix);
    const [on, off, held] = [simAccountId(40), simAccountId(41), simAccountId(42)];
    // `off` is off before the run (someone else switched it off).
    const res = await fetch(`${sim.url}/providers/${off}/deactivate`, {
      method: 'POST',
      headers: { authorization: 'Bearer smx_root_sim_key' },
    });
    expect(res.status).toBe(200);
    const run = await runCli(
      ['bulk', '--ids', `${on},${off},${held}`, '--batch-id', 'cli-undo', '--wait', '--json'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    // The breaker trips on `held` while the run holds it.
    await takeHold(
      redis,
      keys,
      held,
      { id: 'breaker', source: 'breaker', ref: 't' },
      seenState('active'),
    );

    const r = await runCli(['batch', 'undo', 'cli-undo', '--wait', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      accounts: { account_id: string; result: string; held_by: string[] }[];
    };
    expect(out).toMatchObject({
      batch_id: 'cli-undo',
      reactivated: 1,
      still_held: 1,
      was_inactive: 1,
      not_switched_off: 0,
      already_undone: 0,
      accounts_truncated: false,
      done: true,
      activations: { total: 1, succeeded: 1, failed: 0 },
    });
    const results = Object.fromEntries(out.accounts.map((a) => [a.account_id, a]));
    expect(results[on]).toMatchObject({ result: 'reactivated', held_by: [] });
    expect(results[off]).toMatchObject({ result: 'was_inactive' });
    expect(results[held]).toMatchObject({ result: 'still_held', held_by: ['breaker'] });
    expect(sim.account(on)?.status).toBe('active');
    expect(sim.stats().executions.byAccount[on]).toEqual({ deactivate: 1, activate: 1 });
    expect(sim.account(off)?.status).toBe('inactive');
    expect(sim.account(held)?.status).toBe('inactive');
    expect((await readHolds(redis, keys, held)).holds.map((h) => h.id)).toEqual(['breaker']);

    const again = await runCli(['batch', 'undo', 'cli-undo'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(
      'batch cli-undo undone: 0 reactivated (activations enqueued), 0 still held off by other holds, 0 not active before the run (left off), 0 not switched off by the run, 3 already undone',
    );
    expect(sim.stats().executions.byAccount[on]?.activate).toBe(1);

    // Refusals: an activate batch exits 2 naming the rule; an unknown batch exits 1.
    const activateRun = await runCli(
      ['bulk', '--action', 'activate', '--ids', on, '--batch-id', 'cli-on', '--wait'],
      env,
    );
    expect(activateRun.code, activateRun.stderr).toBe(0);
    const refused = await runCli(['batch', 'undo', 'cli-on'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('only a deactivate run can be undone');
    const unknown = await runCli(['batch', 'undo', 'no-such-batch'], env);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('batch "no-such-batch": no such batch');
  });

  it('batch undo --wait --actor: progress lines with rate and ETA; status, list and report tell the undo', async () => {
    const accounts = Array.from({ length: 20 }, (_, i) => simAccountId(60 + i));
    const run = await runCli(
      ['bulk', '--ids', accounts.join(','), '--batch-id', 'cli-life', '--wait'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const undo = await runCli(['batch', 'undo', 'cli-life', '--wait', '--actor', 'alice'], env);
    expect(undo.code, undo.stderr).toBe(0);
    const progress = undo.stderr.split('\n').filter((l) => l.startsWith('progress: '));
    expect(progress.length).toBeGreaterThan(0);
    for (const line of progress) {
      expect(line).toMatch(
        /^progress: \d+\/20 activations done \(\d+ succeeded, 0 failed\), [\d.]+\/s, ETA (\?|\d+m\d\ds)$/,
      );
    }
    expect(progress.at(-1)).toMatch(
      /^progress: 20\/20 activations done \(20 succeeded, 0 failed\), /,
    );

    const status = await runCli(['batch', 'status', 'cli-life'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('done 20/20: 20 succeeded');
    expect(status.stdout).toMatch(
      /undone by alice at 20\d\d-[-\dT:.]+Z: 20 reactivated, 0 still held off by other holds/,
    );
    expect(status.stdout).toContain(
      'activations: 20 succeeded, 0 failed, 0 superseded, 0 cancelled; 0 queued',
    );
    const json = JSON.parse(
      (await runCli(['batch', 'status', 'cli-life', '--json'], env)).stdout,
    ) as {
      undo: { by: string; state: string; reactivated: number };
    };
    expect(json.undo).toMatchObject({ by: 'alice', state: 'done', reactivated: 20 });
    const list = await runCli(['batch', 'list'], env);
    expect(list.stdout.split('\n')[0]).toMatch(/ undo$/);
    expect(list.stdout).toMatch(/^cli-life .* done \(alice\): 20 reactivated$/m);

    const report = await runCli(['batch', 'report', 'cli-life'], env);
    expect(report.code, report.stderr).toBe(0);
    const rows = report.stdout.trim().split('\n').slice(1);
    expect(rows.map((r) => r.split(',')[0])).toEqual([...accounts].sort());
    for (const row of rows) {
      const [id, outcome, status, , , , , , now, heldBy, undone, activation] = row.split(',');
      expect([outcome, status, heldBy, undone, activation]).toEqual([
        'succeeded',
        'inactive',
        '',
        'reactivated',
        'succeeded',
      ]);
      // The status now is the activation's answer (the simulator's, `active` or `pending`).
      expect(now).toBe(sim.account(id ?? '')?.status);
      expect(now).not.toBe('inactive');
    }
    expect((await runCli(['batch', 'report', 'cli-life'], env)).stdout).toBe(report.stdout);
  });

  it('batch cancel during bulk --wait: the last line counts the cancelled apart, not as done work; who cancelled is recorded', async () => {
    // Its own prefix with no worker: the jobs wait until cancelled.
    const idle = testConfig({ baseUrl: sim.url, apiKey: 'smx_root_sim_key' });
    const idleEnv = { ...env, QUEUE_PREFIX: idle.prefix };
    try {
      const ids = [simAccountId(90), simAccountId(91), simAccountId(92)];
      const child = spawnCli(
        ['bulk', '--ids', ids.join(','), '--batch-id', 'cli-stop', '--wait'],
        idleEnv,
      );
      await child.waitForOutput(/3 enqueued/);
      const cancel = await runCli(['batch', 'cancel', 'cli-stop', '--actor', 'zoe'], idleEnv);
      expect(cancel.code, cancel.stderr).toBe(0);
      expect(await child.exited).toBe(1);
      const lines = child
        .output()
        .split('\n')
        .filter((l) => l.startsWith('progress: '));
      expect(lines.at(-1)).toMatch(
        /^progress: 0\/3 done \(0 succeeded, 0 failed\), 3 cancelled, 0\.0\/s, ETA 0m00s$/,
      );
      const status = await runCli(['batch', 'status', 'cli-stop'], idleEnv);
      expect(status.stdout).toMatch(/cancelled 20\d\d-[-\dT:.]+Z by zoe/);
    } finally {
      await dropPrefix(idle.prefix);
    }
  });
});
