/**
 * The guards of store/retention.ts that retention.test.ts does not catch, one test per promise
 * (issue 19 §4): each fails with its guard broken (the mutations of test/guards/guards.ts,
 * `npm run test:guards`). Real Redis, a prefix per test; the sweeps called through their
 * functions, with a write between a sweep's read and its script where the guard is about one.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { resetBreaker } from '../../src/store/breaker-reset.js';
import { markActivationEnqueued } from '../../src/store/breaker-state.js';
import { countAndTrip, type TripSettings } from '../../src/store/breaker-trip.js';
import { claimKeys } from '../../src/store/claim-keys.js';
import type { Keys } from '../../src/store/keys.js';
import { observeAccounts } from '../../src/store/observe-accounts.js';
import { recordOutcome } from '../../src/store/record-outcome.js';
import { sweepAccounts, sweepBreakers, sweepOccurrences } from '../../src/store/retention.js';
import {
  beginOccurrence,
  markEnded,
  markStarted,
  skipOccurrence,
} from '../../src/store/window-occurrence.js';
import { createWindowRecord } from '../../src/store/window-record.js';
import { redisPerTest } from '../support/context.js';
import { afterFirstPipeline } from '../support/race.js';
import { ACT_RULES } from '../support/trip-settings.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const DAY = 86_400_000;
const OLD = Date.now() - 40 * DAY;
/** Sweep everything older than a day. */
const cutoff = () => Date.now() - DAY;

async function claim(key: string, accountId: string, now: number, client: Redis = redis) {
  const r = await claimKeys(
    client,
    keys,
    [{ key, fingerprint: `fp-${key}`, action: 'deactivate', accountId, source: 'manual' }],
    now,
  );
  if (!r.ok) throw new Error('conflict');
  return r.claimed[0]?.seq ?? 0;
}

/** An intent of the account that ended (succeeded) at `now`. */
async function finished(key: string, accountId: string, now: number): Promise<void> {
  const seq = await claim(key, accountId, now);
  const r = await recordOutcome(
    redis,
    keys,
    { idempotencyTtlS: 86_400, eventsMaxLen: 1000 },
    {
      outcome: 'succeeded',
      intent: {
        action: 'deactivate',
        accountId,
        idempotencyKey: key,
        source: 'manual',
        reason: '',
      },
      seq,
      jobId: `k-${key}@${seq}`,
      attempts: 1,
      at: new Date(now),
      account: { status: 'inactive', is_active: false, status_reason: null, updated_at: null },
      requestId: null,
      httpStatus: 200,
    },
    undefined,
  );
  expect(r).toBe('recorded');
}

const records = async (id: string) => [
  await redis.exists(keys.status(id)),
  await redis.exists(keys.accountOrder(id)),
  (await redis.zscore(keys.statusIndex, id)) === null ? 0 : 1,
];

/** `redis` with a write by `meanwhile` right after its first ZRANGEBYSCORE answered. */
function afterFirstPage(redis: Redis, meanwhile: (real: Redis) => Promise<unknown>) {
  let pending = true;
  return new Proxy(redis, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(target);
      if (prop !== 'zrangebyscore') return fn;
      return async (...args: unknown[]) => {
        const page = await fn(...args);
        if (pending) {
          pending = false;
          await meanwhile(target);
        }
        return page;
      };
    },
  });
}

describe('accounts', () => {
  it('an account whose outcome is as old as the oldest intent still pending is kept', async () => {
    await finished('a-1', 'dprov_a', OLD);
    await claim('other-1', 'dprov_other', OLD); // pending, claimed in the same ms
    expect(await sweepAccounts(redis, keys, cutoff())).toBe(0);
    expect(await records('dprov_a')).toEqual([1, 1, 1]);
  });

  it('an account that got a new intent after the sweep read its order is kept', async () => {
    await finished('a-1', 'dprov_a', OLD);
    // The sweep read the order (a-1, ended); a new intent is asked before its script runs.
    const race = afterFirstPipeline(redis, (real) => claim('a-2', 'dprov_a', OLD + 1, real));
    expect(await sweepAccounts(race.client, keys, cutoff())).toBe(0);
    expect(race.fired()).toBe(true);
    expect(await records('dprov_a')).toEqual([1, 1, 1]);
    expect(await redis.hget(keys.accountOrder('dprov_a'), 'key')).toBe('a-2');
  });

  it('two sweeps at once: an account the other sweep removed after this one read its page is stepped over', async () => {
    await finished('a-1', 'dprov_a', OLD);
    await finished('b-1', 'dprov_b', OLD);
    let other = -1;
    const client = afterFirstPage(redis, async (real) => {
      other = await sweepAccounts(real, keys, cutoff());
    });
    expect(await sweepAccounts(client, keys, cutoff())).toBe(0);
    expect(other).toBe(2);
    expect(await records('dprov_a')).toEqual([0, 0, 0]);
    expect(await records('dprov_b')).toEqual([0, 0, 0]);
  });
});

describe('breakers', () => {
  const SETTINGS: TripSettings = {
    rules: ACT_RULES,
    dedupeTtlS: 3600,
    eventsMaxLen: 1000,
  };

  it('a closed breaker whose activation is not on the queue yet is kept until it is', async () => {
    const id = 'dprov_b';
    await observeAccounts(redis, keys, [
      { id, status: 'active', is_active: true, status_reason: null, updated_at: null },
    ]);
    await countAndTrip(redis, keys, { accountId: id, force: true }, SETTINGS, new Date(OLD));
    const r = await resetBreaker(
      redis,
      keys,
      id,
      { windowS: 900, eventsMaxLen: 1000 },
      new Date(OLD),
    );
    if (r.result !== 'reset' || r.activateKey === null) throw new Error('expected an activation');
    expect(await sweepBreakers(redis, keys, cutoff())).toBe(0);
    await markActivationEnqueued(redis, keys, id, r.activateKey);
    expect(await sweepBreakers(redis, keys, cutoff())).toBe(1);
  });

  it('a breaker still due a step is kept', async () => {
    const id = 'dprov_due';
    await countAndTrip(redis, keys, { accountId: id, kind: 'delivered' }, SETTINGS, new Date(OLD));
    await redis.zadd(keys.breakerDue, OLD, id);
    expect(await sweepBreakers(redis, keys, cutoff())).toBe(0);
    await redis.zrem(keys.breakerDue, id);
    expect(await sweepBreakers(redis, keys, cutoff())).toBe(1);
  });

  it('a breaker that got a signal after the sweep read its page is kept', async () => {
    const id = 'dprov_late';
    await countAndTrip(redis, keys, { accountId: id, kind: 'delivered' }, SETTINGS, new Date(OLD));
    const client = afterFirstPage(redis, (real) =>
      countAndTrip(real, keys, { accountId: id, kind: 'delivered' }, SETTINGS),
    );
    expect(await sweepBreakers(client, keys, cutoff())).toBe(0);
    expect(await redis.zscore(keys.breakerIndex, id)).not.toBeNull();
  });

  it('two sweeps at once: a breaker the other sweep removed after this one read its page is stepped over', async () => {
    for (const id of ['dprov_x', 'dprov_y']) {
      await countAndTrip(
        redis,
        keys,
        { accountId: id, kind: 'delivered' },
        SETTINGS,
        new Date(OLD),
      );
    }
    let other = -1;
    const client = afterFirstPage(redis, async (real) => {
      other = await sweepBreakers(real, keys, cutoff());
    });
    expect(await sweepBreakers(client, keys, cutoff())).toBe(0);
    expect(other).toBe(2);
    expect(await redis.zcard(keys.breakerIndex)).toBe(0);
  });
});

describe('window occurrences', () => {
  it('older than the newest kept: an ended one goes, and an index entry whose record is gone', async () => {
    await createWindowRecord(redis, keys, { id: 'w', targets: [], schedule: {}, reason: '' });
    const occ = (i: number) => ({
      windowId: 'w',
      occurrence: String(OLD + i * 1000),
      startsMs: OLD + i * 1000,
      endsMs: OLD + i * 1000 + 500,
    });
    await beginOccurrence(redis, keys, occ(0));
    await markStarted(redis, keys, occ(0), ['{}'], 100);
    await markEnded(redis, keys, occ(0), ['{}'], 100, false);
    await skipOccurrence(redis, keys, occ(1), '{}', 100);
    await redis.del(keys.windowOccurrence('w', occ(1).occurrence)); // its record lost
    for (let i = 2; i < 4; i++) await skipOccurrence(redis, keys, occ(i), '{}', 100);
    expect(await sweepOccurrences(redis, keys, 2)).toBe(2);
    expect(await redis.zrange(keys.windowOccurrences('w'), 0, -1)).toEqual([
      occ(2).occurrence,
      occ(3).occurrence,
    ]);
  });
});
