/** Store operations on their own, against real Redis: claims, order, pauses. */
import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { beginRun } from '../../src/store/begin-run.js';
import { claimKeys, type Claim } from '../../src/store/claim-keys.js';
import type { Keys } from '../../src/store/keys.js';
import { pauseQueue } from '../../src/store/pause-queue.js';
import { redisPerTest } from '../support/context.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const claim = (key: string, providerId: string, action = 'deactivate'): Claim => ({
  key,
  fingerprint: `${action} ${providerId} by manual`,
  action,
  providerId,
  source: 'manual',
});

describe('claimKeys', () => {
  it('gives each new binding the next sequence number and makes it the newest of its account', async () => {
    const r = await claimKeys(redis, keys, [
      claim('a', 'dprov_1'),
      claim('b', 'dprov_1', 'activate'),
    ]);
    expect(r).toEqual({
      ok: true,
      claimed: [
        { state: 'new', seq: 1 },
        { state: 'new', seq: 2 },
      ],
    });
    expect(await redis.hgetall(keys.accountOrder('dprov_1'))).toEqual({ seq: '2', key: 'b' });
    // A repeat of an existing key neither takes a new number nor changes the order.
    const again = await claimKeys(redis, keys, [claim('a', 'dprov_1')]);
    expect(again).toEqual({ ok: true, claimed: [{ state: 'queued', seq: 1 }] });
    expect(await redis.hgetall(keys.accountOrder('dprov_1'))).toEqual({ seq: '2', key: 'b' });
    expect(await redis.zcard(keys.pending)).toBe(2);
  });

  it('is all-or-nothing: a key bound to another intent refuses the whole chunk', async () => {
    await claimKeys(redis, keys, [claim('a', 'dprov_1')]);
    const r = await claimKeys(redis, keys, [claim('fresh', 'dprov_2'), claim('a', 'dprov_9')]);
    expect(r).toMatchObject({ ok: false, conflict: { key: 'a' } });
    expect(await redis.exists(keys.binding('fresh'))).toBe(0);
    expect(await redis.get(keys.sequence)).toBe('1');
  });
});

describe('beginRun', () => {
  it('tells a run whose job lock is not its own that it lost the job', async () => {
    await claimKeys(redis, keys, [claim('a', 'dprov_1')]);
    const run = { jobId: 'k-a@1', token: 'mine', key: 'a', seq: 1, providerId: 'dprov_1' };
    expect(await beginRun(redis, keys, run, 1_000)).toEqual({ kind: 'lost' });
    await redis.set(keys.jobLock('k-a@1'), 'mine');
    expect(await beginRun(redis, keys, run, 1_000)).toMatchObject({ kind: 'go', starts: 1 });
    // Re-entrant for the same key (a re-run after a crash holds its own lease).
    expect(await beginRun(redis, keys, run, 1_000)).toMatchObject({ kind: 'go', starts: 2 });
    expect(await beginRun(redis, keys, { ...run, seq: 7 }, 1_000)).toEqual({ kind: 'stale' });
  });
});

describe('pauseQueue', () => {
  it('keeps the later deadline: a short pause never cuts a longer one', async () => {
    expect(await pauseQueue(redis, keys, 5_000)).toBe(5_000);
    const kept = await pauseQueue(redis, keys, 1_000);
    expect(kept).toBeGreaterThan(4_000);
    expect(await redis.pttl(keys.limiter)).toBeGreaterThan(4_000);
    expect(await pauseQueue(redis, keys, 9_000)).toBe(9_000);
    expect(await redis.pttl(keys.limiter)).toBeGreaterThan(8_000);
  });
});
