/**
 * `start`: the worker and the HTTP server in one real process. An action asked over the admin
 * API is carried out by the same process against the simulator; SIGTERM stops both (exit 0).
 * Without an API key it refuses to start (exit 2).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../src/redis/redis-server.js';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';
import { runCli, spawnCli, type CliProcess } from '../support/cli-process.js';
import { dropPrefix, testConfig, waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();

const config = testConfig();
const ADMIN = 'admin-token-start-e2e-0123456';
let sim: Simulator | undefined;
let proc: CliProcess | undefined;

afterAll(async () => {
  if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  await proc?.exited;
  await sim?.close();
  await dropPrefix(config.prefix);
});

describe('start', () => {
  it('serves the API and works the queue in one process, and stops on SIGTERM', async () => {
    sim = await startSimulator({ accounts: 5, rateLimit: 0 });
    const port = await freeLoopbackPort();
    proc = spawnCli(['start', '--port', String(port), '--host', '127.0.0.1'], {
      REDIS_URL: config.redisUrl,
      QUEUE_PREFIX: config.prefix,
      SENDMUX_BASE_URL: sim.url,
      SENDMUX_API_KEY: 'smx_root_sim_key',
      ADMIN_TOKEN: ADMIN,
      WINDOW_CONCURRENCY: '1',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => ((await fetch(`${base}/healthz`).catch(() => undefined))?.ok ? true : undefined),
      20_000,
      'the server to answer /healthz',
    );
    const account = simAccountId(2);
    const res = await fetch(`${base}/v1/actions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'deactivate', accounts: [account] }),
    });
    expect(res.status).toBe(202);
    await waitFor(() => (sim?.account(account)?.status === 'inactive' ? true : undefined), 20_000);
    const status = await fetch(`${base}/v1/accounts/${account}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(await status.json()).toMatchObject({ status: 'inactive', last_outcome: 'succeeded' });
    const spec = await fetch(`${base}/openapi.json`);
    expect(spec.status).toBe(200);
    // Read to the end: an unread body keeps its socket open (the document is large enough now).
    expect(await spec.json()).toHaveProperty('paths./v1/actions');

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('"msg":"bye"');
    expect(proc.output()).not.toContain(ADMIN);
    expect(proc.output()).not.toContain('smx_root_sim_key');
  });

  it('refuses to start without an API key (exit 2, nothing listening)', async () => {
    const r = await runCli(
      ['start', '--port', '0'],
      { REDIS_URL: config.redisUrl, QUEUE_PREFIX: config.prefix },
      ['SENDMUX_API_KEY'],
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SENDMUX_API_KEY');
  });
});
