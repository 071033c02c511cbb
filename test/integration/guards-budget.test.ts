/**
 * The guards of the shared budgets, one test per promise (issue 19 §4): store/rate-budget.ts
 * (the API key's window, taken by begin-run and learned from the answers record-outcome
 * records: called through beginRun and recordOutcome) and store/spend-budget.ts (the reads
 * outside a job). Each fails with its guard broken (the mutations of test/guards/guards.ts,
 * `npm run test:guards`). Real Redis, a prefix per test.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { beginRun } from '../../src/store/begin-run.js';
import { claimKeys } from '../../src/store/claim-keys.js';
import type { Keys } from '../../src/store/keys.js';
import { readRateBudget } from '../../src/store/rate-budget.js';
import { spendBudget } from '../../src/store/spend-budget.js';
import { redisPerTest } from '../support/context.js';
import { reportAnswer } from '../support/rate-answer.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const answer = (rateLimit?: { limit: number; remaining: number; resetAtMs: number }) =>
  reportAnswer(redis, keys, rateLimit);
const window = (limit: number, remaining: number, resetAtMs: number) =>
  answer({ limit, remaining, resetAtMs });

let next = 0;
/** Begin a run of a fresh intent (its own account) at `now`. */
async function begin(now: number, reserve = 0) {
  next++;
  const key = `b${next}`;
  const accountId = `dprov_${next}`;
  const r = await claimKeys(redis, keys, [
    { key, fingerprint: `fp-${key}`, action: 'deactivate', accountId, source: 'manual' },
  ]);
  if (!r.ok) throw new Error('claim refused');
  const seq = r.claimed[0]?.seq ?? 0;
  const jobId = `k-${key}@${seq}`;
  await redis.set(keys.jobLock(jobId), 't');
  const run = { jobId, token: 't', key, seq, accountId, action: 'deactivate' as const };
  return beginRun(redis, keys, run, 1_000, { reserve, now });
}
const kinds = async (n: number, now: number, reserve = 0) => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await begin(now, reserve)).kind);
  return out;
};
const budget = () => readRateBudget(redis, keys);

describe('the rate budget guards', () => {
  it('holds nothing back before any answer, nor after one without rate-limit headers', async () => {
    expect((await begin(1_000)).kind).toBe('go');
    expect(await answer()).toBe('lost');
    expect((await begin(1_000)).kind).toBe('go');
    expect(await budget()).toMatchObject({ limit: null, windowEnd: null, ours: 0 });
  });

  it('past the end of a window of unknown length, holds nothing back (and counts nothing)', async () => {
    await window(10, 10, 2_000);
    expect(await kinds(12, 2_500)).toEqual(Array<string>(12).fill('go'));
    expect(await budget()).toMatchObject({ windowEnd: 2_000, ours: 0 });
  });

  it('paces from the start of a window: a tenth of it ahead, then waits at least 1 ms', async () => {
    await window(10, 10, 2_000);
    await window(10, 10, 3_000); // windows of 1 s
    // At the window's start: a tenth ahead is one call of the 10.
    expect(await kinds(2, 2_000)).toEqual(['go', 'budget']);
    // Windows of 10 ms, 20 calls: a wait of 10 / 20 ms is still 1 ms.
    await window(20, 20, 3_010);
    expect(await budget()).toMatchObject({ windowMs: 10, windowEnd: 3_010 });
    expect(await kinds(2, 3_000)).toEqual(['go', 'go']);
    expect(await begin(3_000)).toEqual({ kind: 'budget', retryInMs: 1 });
  });

  it("learns the window's length from the shortest step between two resets", async () => {
    await window(10, 10, 2_000);
    await window(10, 10, 4_000);
    expect((await budget()).windowMs).toBe(2_000);
    await window(10, 10, 5_000); // shorter: learned
    expect((await budget()).windowMs).toBe(1_000);
    await window(10, 10, 7_000); // a window nobody called in: longer, not learned
    expect((await budget()).windowMs).toBe(1_000);
  });

  it('an answer about the current window keeps what we took of it; one about an older window changes nothing', async () => {
    await window(10, 10, 2_000);
    expect(await kinds(3, 1_900)).toEqual(['go', 'go', 'go']);
    await window(10, 7, 2_000); // our 3 calls: nobody else
    expect(await budget()).toMatchObject({ windowEnd: 2_000, ours: 3, used: 3, others: 0 });
    await window(10, 10, 3_000);
    await window(10, 0, 2_000); // late, about the window before
    expect(await budget()).toMatchObject({ windowEnd: 3_000, ours: 0, used: 0, others: 0 });
  });

  it('the most used in a window is kept: an answer sent earlier, read later, does not lower it', async () => {
    await window(10, 5, 2_000);
    await window(10, 8, 2_000);
    expect(await budget()).toMatchObject({ used: 5, othersWindow: 5 });
  });

  it('others never shrink within a window, and the last window’s others are left room for', async () => {
    await window(10, 7, 2_000); // 3 used by others
    expect(await kinds(2, 1_900)).toEqual(['go', 'go']);
    await window(10, 7, 2_000); // still 3 used in all, 2 of them ours: the 3 are kept
    expect(await budget()).toMatchObject({ othersWindow: 3, others: 3 });
    await window(10, 9, 3_000); // the next window: 1 used by others so far
    expect(await budget()).toMatchObject({ othersWindow: 1, others: 3 });
  });
});

describe('the spend budget guards', () => {
  const BUDGET = { max: 3, duration: 10_000 };

  it('is full at its max: the next read waits', async () => {
    for (let i = 0; i < 3; i++) await spendBudget(redis, keys, BUDGET);
    await expect(spendBudget(redis, keys, BUDGET, AbortSignal.timeout(200))).rejects.toThrow();
    expect(await redis.get(keys.limiter)).toBe('3');
  });

  it('expires from its first call, not its last', async () => {
    await spendBudget(redis, keys, BUDGET);
    expect(await redis.pttl(keys.limiter)).toBeGreaterThan(0);
    await sleep(300);
    await spendBudget(redis, keys, BUDGET);
    expect(await redis.pttl(keys.limiter)).toBeLessThan(9_800);
  });

  it('a full counter left without an expiry starts afresh', async () => {
    await redis.set(keys.limiter, '3');
    await spendBudget(redis, keys, BUDGET, AbortSignal.timeout(2_000));
    expect(await redis.get(keys.limiter)).toBe('1');
    expect(await redis.pttl(keys.limiter)).toBeGreaterThan(0);
  });
});
