import { afterEach, describe, expect, it } from 'vitest';
import { SIM_LOCKED_ID, simAccountId, startSimulator } from '../../../src/sim/index.js';
import type { Simulator } from '../../../src/sim/index.js';
import { envelope, get, http, post } from './helpers.js';
import type { CallResult } from './helpers.js';

const sims: Simulator[] = [];
async function start(opts: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const s = await startSimulator(opts);
  sims.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

describe('rate limit', () => {
  it('answers the 4th request of a 3-per-window key with 429, Retry-After and Remaining 0', async () => {
    const sim = await start({ accounts: 3, rateLimit: 3 });
    const remaining: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await get(sim, `/providers/${simAccountId(1)}`);
      expect(r.status).toBe(200);
      expect(r.headers['x-ratelimit-limit']).toBe('3');
      remaining.push(r.headers['x-ratelimit-remaining']);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await post(sim, `/providers/${simAccountId(1)}/deactivate`);
    expect(limited.status).toBe(429);
    expect(envelope(limited).error).toMatchObject({ code: 'rate_limit_exceeded', retryable: true });
    expect(limited.headers['x-request-id']).toBe(envelope(limited).meta.request_id);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const reset = Number(limited.headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 61);
    expect(sim.stats()).toMatchObject({ rateLimited: 1, requests: 4, executions: { total: 0 } });
    expect(sim.account(simAccountId(1))?.status).toBe('active');
  });

  it('opens a new window after rateWindowMs (injected clock: no race with a loaded machine)', async () => {
    let t = Date.UTC(2026, 5, 1, 12, 0, 0);
    const sim = await start({ accounts: 1, rateLimit: 1, rateWindowMs: 60_000, now: () => t });
    const first = await get(sim, '/providers');
    expect(first.status).toBe(200);
    expect(first.headers['x-ratelimit-reset']).toBe(String((t + 60_000) / 1000));
    t += 59_999;
    const limited = await get(sim, '/providers');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    t += 1;
    const next = await get(sim, '/providers');
    expect(next.status).toBe(200);
    expect(next.headers['x-ratelimit-remaining']).toBe('0');
    expect(next.headers['x-ratelimit-reset']).toBe(String((t + 60_000) / 1000));
  });

  it('counts per API key', async () => {
    const sim = await start({ accounts: 1, rateLimit: 1, readOnlyApiKey: 'smx_root_ro' });
    expect((await get(sim, '/providers')).status).toBe(200);
    expect((await get(sim, '/providers', { key: 'smx_root_ro' })).status).toBe(200);
    expect((await get(sim, '/providers')).status).toBe(429);
  });

  it('when rateLimit is 0: never limits, still counts, reports a limit of 1000000', async () => {
    const sim = await start({ accounts: 1, rateLimit: 0 });
    for (let i = 1; i <= 5; i++) {
      const r = await get(sim, '/providers');
      expect(r.status).toBe(200);
      expect(r.headers['x-ratelimit-limit']).toBe('1000000');
      expect(r.headers['x-ratelimit-remaining']).toBe(String(1_000_000 - i));
      expect(Number(r.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    }
    const unauth = await get(sim, '/providers', { key: null });
    expect(unauth.headers['x-ratelimit-limit']).toBe('1000000');
  });

  it('puts X-RateLimit-* on every answer: errors, 404s (API and not), 304, 401, 413', async () => {
    const sim = await start({ accounts: 2, readOnlyApiKey: 'smx_root_ro' });
    sim.script(simAccountId(1), [{ kind: 'status', status: 500 }]);
    const etag = String((await get(sim, `/providers/${simAccountId(2)}`)).headers.etag);
    const answers: CallResult[] = [
      await get(sim, `/providers/${simAccountId(2)}`),
      await get(sim, `/providers/${simAccountId(2)}`, { headers: { 'if-none-match': etag } }),
      await get(sim, '/providers/dprov_nope'),
      await get(sim, '/no-such-route'),
      await http('GET', `${sim.origin}/not-the-api`),
      await get(sim, '/providers', { key: null }),
      await get(sim, '/providers?limit=0'),
      await post(sim, `/providers/${simAccountId(2)}/deactivate`, { key: 'smx_root_ro' }),
      await post(sim, `/providers/${simAccountId(1)}/deactivate`),
      await post(sim, `/providers/${SIM_LOCKED_ID}/deactivate`),
      await post(sim, `/providers/${simAccountId(2)}/deactivate`, { body: 'x'.repeat(1_100_000) }),
    ];
    expect(answers.map((r) => r.status)).toEqual([
      200, 304, 404, 404, 404, 401, 400, 403, 500, 409, 413,
    ]);
    for (const r of answers) {
      expect(r.headers['x-ratelimit-limit'], String(r.status)).toBe('600');
      expect(r.headers['x-ratelimit-remaining'], String(r.status)).toMatch(/^\d+$/);
      expect(Number(r.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    }
  });
});
