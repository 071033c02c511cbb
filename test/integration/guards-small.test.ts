/**
 * The guards of the small store scripts (pause-queue, repair-turn, window-record and the
 * breaker record's marks), one test per promise (issue 19 §4): each fails with its guard
 * broken (the mutations of test/guards/guards.ts, `npm run test:guards`). Real Redis.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { markActivationEnqueued, markTripEnqueued } from '../../src/store/breaker-state.js';
import { tickBreaker } from '../../src/store/breaker-tick.js';
import type { Keys } from '../../src/store/keys.js';
import { pauseQueue } from '../../src/store/pause-queue.js';
import { takeRepairTurn } from '../../src/store/repair-turn.js';
import {
  cancelWindowRecord,
  createWindowRecord,
  readWindowRecord,
} from '../../src/store/window-record.js';
import { redisPerTest } from '../support/context.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

describe('small store scripts', () => {
  it('a shorter pause never shortens a longer one already set', async () => {
    expect(await pauseQueue(redis, keys, 600_000)).toBe(600_000);
    expect(await pauseQueue(redis, keys, 1_000)).toBeGreaterThan(1_000);
    expect(await redis.pttl(keys.limiter)).toBeGreaterThan(1_000);
  });

  it('a repair turn given back deletes only its own turn', async () => {
    const giveBack = await takeRepairTurn(redis, keys, 600_000);
    if (!giveBack) throw new Error('expected the turn');
    expect(await takeRepairTurn(redis, keys, 600_000)).toBeUndefined();
    // The turn ran out and another worker took it: giving back the old one leaves it.
    await redis.set(keys.repairTurn, 'someone-else', 'PX', 600_000);
    await giveBack();
    expect(await redis.get(keys.repairTurn)).toBe('someone-else');
  });

  it('a window is created once; a second create with its id changes nothing', async () => {
    const w = { id: 'w1', targets: ['dprov_1'], schedule: { at: 1 }, reason: 'first' };
    expect(await createWindowRecord(redis, keys, w)).toBe(true);
    expect(await createWindowRecord(redis, keys, { ...w, reason: 'second' })).toBe(false);
    expect(await redis.hget(keys.window('w1'), 'reason')).toBe('first');
  });

  it('cancel: no such window is undefined; only a scheduled one is cancelled, once', async () => {
    expect(await cancelWindowRecord(redis, keys, 'nope')).toBeUndefined();
    expect(await redis.exists(keys.window('nope'))).toBe(0);
    const w = { id: 'w1', targets: [], schedule: {}, reason: '' };
    await createWindowRecord(redis, keys, w);
    expect(await cancelWindowRecord(redis, keys, 'w1', new Date(1_000))).toBe('scheduled');
    expect(await cancelWindowRecord(redis, keys, 'w1', new Date(2_000))).toBe('cancelled');
    expect(await readWindowRecord(redis, keys, 'w1')).toMatchObject({
      state: 'cancelled',
      cancelled_at: new Date(1_000).toISOString(),
    });
  });

  it("a trip is marked enqueued only while the record is still that trip's", async () => {
    const key = keys.breaker('dprov_1');
    await redis.hset(key, 'trip_id', 't2', 'enqueued', '0');
    await markTripEnqueued(redis, keys, 'dprov_1', 't1');
    expect(await redis.hget(key, 'enqueued')).toBe('0');
    await markTripEnqueued(redis, keys, 'dprov_1', 't2');
    expect(await redis.hget(key, 'enqueued')).toBe('1');
  });

  it('an activation is marked enqueued only while it is still the pending one', async () => {
    const key = keys.breaker('dprov_1');
    await redis.hset(key, 'pending_activation', 'k2');
    await markActivationEnqueued(redis, keys, 'dprov_1', 'k1');
    expect(await redis.hget(key, 'pending_activation')).toBe('k2');
    await markActivationEnqueued(redis, keys, 'dprov_1', 'k2');
    expect(await redis.hget(key, 'pending_activation')).toBeNull();
  });

  it('a tick asked early changes nothing: open until its cooldown ran out, half-open until its watch', async () => {
    // Called directly (the service only ticks what its schedule says is due): the script's own
    // checks of the time.
    const settings = { windowS: 600, watchS: 300, eventsMaxLen: 100 };
    const key = keys.breaker('dprov_t');
    await redis.hset(key, 'state', 'open', 'trip_id', 't1', 'open_until', 60_000);
    expect(await tickBreaker(redis, keys, 'dprov_t', settings, new Date(59_999))).toEqual({
      result: 'none',
    });
    expect(await redis.hget(key, 'state')).toBe('open');
    await redis.hset(key, 'state', 'half_open', 'half_open_at', 60_000);
    await redis.hdel(key, 'open_until');
    expect(await tickBreaker(redis, keys, 'dprov_t', settings, new Date(359_999))).toEqual({
      result: 'none',
    });
    expect(await redis.hget(key, 'state')).toBe('half_open');
    expect(await tickBreaker(redis, keys, 'dprov_t', settings, new Date(360_000))).toEqual({
      result: 'closed',
      tripId: 't1',
    });
  });
});
