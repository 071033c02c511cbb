import { afterEach, describe, expect, it } from 'vitest';
import { simAccountId, startSimulator } from '../../../src/sim/index.js';
import type { Simulator } from '../../../src/sim/index.js';
import { envelope, get, post } from './helpers.js';

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

  it('opens a new window after rateWindowMs', async () => {
    const sim = await start({ accounts: 1, rateLimit: 1, rateWindowMs: 150 });
    expect((await get(sim, '/providers')).status).toBe(200);
    expect((await get(sim, '/providers')).status).toBe(429);
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(sim, '/providers')).status).toBe(200);
  });

  it('counts per API key', async () => {
    const sim = await start({ accounts: 1, rateLimit: 1, readOnlyApiKey: 'smx_root_ro' });
    expect((await get(sim, '/providers')).status).toBe(200);
    expect((await get(sim, '/providers', { key: 'smx_root_ro' })).status).toBe(200);
    expect((await get(sim, '/providers')).status).toBe(429);
  });

  it('sends no rate-limit headers and never limits when rateLimit is 0', async () => {
    const sim = await start({ accounts: 1, rateLimit: 0 });
    for (let i = 0; i < 5; i++) {
      const r = await get(sim, '/providers');
      expect(r.status).toBe(200);
      expect(r.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });
});
