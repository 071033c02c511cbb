/**
 * Held is not the same as off (issue 20 §3). The simulator's locked account answers 409
 * `conflict` to a deactivation: deactivated by hand, its `manual` hold stands while it is
 * still on. `holds` (text and --json, a real CLI process), GET /v1/holds[/:account],
 * GET /v1/accounts/:account and the overview say so: held, still on, the failure, and the
 * commands that retry it or let it go; the overview counts it apart from the held accounts
 * that are off. Real Redis, the simulator over HTTP, a worker; the server answers in-process.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { SIM_LOCKED_ID, simAccountId } from '../../src/sim/index.js';
import type { HeldAccountView, OverviewView } from '../../src/wire/index.js';
import { runCli } from '../support/cli-process.js';
import { waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

sharedFixtures();

const ADMIN = 'admin-token-held-still-on-0123';
const auth = { authorization: `Bearer ${ADMIN}` };
const OFF = simAccountId(1);

let p: Pipeline | undefined;
let app: HttpServer | undefined;
afterAll(async () => {
  await app?.close();
  await p?.stop();
});

describe('a held account whose deactivation failed', () => {
  it('is shown held and still on, with the failure and the next step, and not counted off', async () => {
    p = await startPipeline({ workers: 1, sim: { accounts: 5 } });
    const pipeline = p;
    const config = { ...p.config, adminToken: ADMIN };
    app = await buildServer({
      config,
      redis: p.redis,
      logger: createLogger({ level: 'silent', pretty: false }),
    });
    const server = app;
    const get = async <T>(url: string): Promise<T> => {
      const res = await server.inject({ method: 'GET', url, headers: auth });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      return res.json<T>();
    };
    for (const [id, reason] of [
      [OFF, 'by hand'],
      [SIM_LOCKED_ID, 'spam complaints'],
    ] as const) {
      const res = await server.inject({
        method: 'POST',
        url: '/v1/actions',
        headers: auth,
        payload: { action: 'deactivate', accounts: [id], reason },
      });
      expect(res.statusCode).toBe(202);
    }
    await waitFor(async () => {
      const [off, locked] = await Promise.all([
        pipeline.status(OFF),
        pipeline.status(SIM_LOCKED_ID),
      ]);
      return off?.last_outcome === 'succeeded' && locked?.last_outcome === 'failed'
        ? true
        : undefined;
    }, 20_000);
    expect(pipeline.sim.account(SIM_LOCKED_ID)?.status).toBe('active');

    const retry = `sendmux-deactivator deactivate ${SIM_LOCKED_ID} --reason "spam complaints"`;
    const release = `sendmux-deactivator activate ${SIM_LOCKED_ID}`;
    const lockedHeld = {
      account_id: SIM_LOCKED_ID,
      holds: [expect.objectContaining({ id: 'manual' })],
      still_on: true,
      last_failure: {
        error_code: 'conflict',
        error_message: expect.any(String) as string,
        at: expect.any(String) as string,
      },
      next_step: expect.stringContaining(retry) as string,
    };
    const one = await get<HeldAccountView>(`/v1/holds/${SIM_LOCKED_ID}`);
    expect(one).toMatchObject(lockedHeld);
    expect(one.next_step).toContain(release);
    const all = await get<{ accounts: HeldAccountView[] }>('/v1/holds');
    expect(all.accounts.find((a) => a.account_id === SIM_LOCKED_ID)).toEqual(one);
    expect(all.accounts.find((a) => a.account_id === OFF)).toMatchObject({
      still_on: false,
      last_failure: null,
      next_step: null,
    });
    expect(await get(`/v1/accounts/${SIM_LOCKED_ID}`)).toMatchObject({
      ...lockedHeld,
      is_active: true,
    });
    expect(await get(`/v1/accounts/${OFF}`)).toMatchObject({ is_active: false, still_on: false });

    const o = await get<OverviewView>('/v1/overview');
    expect(o.totals).toMatchObject({ held: 2, held_off: 1, held_still_on: 1 });
    expect(o.accounts.find((a) => a.account_id === SIM_LOCKED_ID)).toMatchObject(lockedHeld);

    // The CLI, as a user runs it.
    const env = { REDIS_URL: config.redisUrl, QUEUE_PREFIX: config.prefix, LOG_LEVEL: 'silent' };
    const json = await runCli(['holds', '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(all.accounts);
    const text = await runCli(['holds'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(`${SIM_LOCKED_ID}\\s+manual\\s+manual\\s+\\S+\\s+\\S+\\s+\\S+\\s+STILL ON`),
    );
    expect(text.stdout).toMatch(
      new RegExp(`${OFF}\\s+manual\\s+manual\\s+\\S+\\s+\\S+\\s+\\S+\\s+held`),
    );
    expect(text.stdout).toContain(`${SIM_LOCKED_ID}: held, STILL ON (deactivation failed`);
    expect(text.stdout).toContain(': conflict: ');
    expect(text.stdout).toContain(`next: retry: ${retry}`);
    expect(text.stdout).toContain(release);
  });
});
