/**
 * The guards of store/breaker-trip.ts (counting a signal and the rules), of the window sum of
 * store/breaker-state.ts and of the rescheduling of store/breaker-tick.ts that breaker.test.ts
 * and guards-breaker.test.ts do not catch, one test per promise (issue 19 §4): each fails with
 * its guard broken (the mutations of test/guards/guards.ts, `npm run test:guards`). Real Redis,
 * a prefix per test; the steps called through the store's functions.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import {
  breakersDue,
  listBreakerAccounts,
  readBreaker,
  readWindow,
  type CountKind,
} from '../../src/store/breaker-state.js';
import { tickBreaker } from '../../src/store/breaker-tick.js';
import { countAndTrip, type TripInput, type TripSettings } from '../../src/store/breaker-trip.js';
import type { Keys } from '../../src/store/keys.js';
import { redisPerTest } from '../support/context.js';
import { TRIP_SETTINGS } from '../support/trip-settings.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const ID = 'dprov_t1';
const SETTINGS = TRIP_SETTINGS;
/** Half a minute into a minute. */
const T = Date.parse('2026-03-01T10:00:30.000Z');
const MIN = 60_000;
const TICK = { windowS: 900, watchS: 300, eventsMaxLen: 1000 };

async function signal(
  kind: CountKind,
  now: number,
  more: Partial<TripInput> = {},
  settings: TripSettings = SETTINGS,
): Promise<string> {
  const r = await countAndTrip(
    redis,
    keys,
    { accountId: ID, kind, ...more },
    settings,
    new Date(now),
  );
  return r.result;
}

describe('counting', () => {
  it('signals without an id are each counted: no dedupe between them', async () => {
    expect(await signal('hard_bounced', T)).toBe('counted');
    expect(await signal('hard_bounced', T)).toBe('tripped');
  });

  it("an operator's trip of an open breaker counts nothing: the breaker list keeps the order of the last signals", async () => {
    const force = (id: string, now: number) =>
      countAndTrip(redis, keys, { accountId: id, force: true }, SETTINGS, new Date(now));
    expect((await force('dprov_a', T)).result).toBe('tripped');
    expect(await signal('delivered', T + MIN)).toBe('counted');
    expect((await force('dprov_a', T + 2 * MIN)).result).toBe('open');
    expect(await listBreakerAccounts(redis, keys)).toEqual([ID, 'dprov_a']);
  });

  it("a signal dated after now (a clock ahead) counts in now's minute", async () => {
    expect(await signal('hard_bounced', T, { occurredAt: new Date(T + 5 * MIN) })).toBe('counted');
    expect(await readWindow(redis, keys, ID, 900, T)).toMatchObject({ hard_bounced: 1 });
    expect(await signal('hard_bounced', T)).toBe('tripped');
  });

  it('a signal counts in the minute it happened: one dated 14 minutes back leaves the window a minute later', async () => {
    expect(await signal('hard_bounced', T, { occurredAt: new Date(T - 14 * MIN) })).toBe('counted');
    expect(await readWindow(redis, keys, ID, 900, T)).toMatchObject({ hard_bounced: 1 });
    expect(await readWindow(redis, keys, ID, 900, T + MIN)).toMatchObject({ hard_bounced: 0 });
    expect(await signal('hard_bounced', T + MIN)).toBe('counted');
  });
});

describe('the window sum', () => {
  it("the rules read the window's oldest minute", async () => {
    expect(await signal('hard_bounced', T - 14 * MIN)).toBe('counted');
    expect(await signal('hard_bounced', T)).toBe('tripped');
  });

  it("the rules read the window's current minute", async () => {
    expect(await signal('hard_bounced', T - MIN)).toBe('counted');
    expect(await signal('hard_bounced', T)).toBe('tripped');
  });

  it('a minute before the window is not read', async () => {
    expect(await signal('hard_bounced', T - 15 * MIN)).toBe('counted');
    expect(await signal('hard_bounced', T)).toBe('counted');
  });
});

describe('the rules', () => {
  it("an operator's trip trips whatever the numbers: reason manual, no rate without a volume", async () => {
    const r = await countAndTrip(
      redis,
      keys,
      { accountId: ID, force: true },
      SETTINGS,
      new Date(T),
    );
    expect(r).toMatchObject({
      result: 'tripped',
      reason: 'manual',
      numbers: { delivered: 0, bounced: 0, bounce_rate: null, complaint_rate: null },
    });
    expect((await readBreaker(redis, keys, ID)).last_trip).toMatchObject({
      reason: 'manual',
      numbers: { bounce_rate: null, complaint_rate: null },
    });
  });

  it('a bounce rule with a minimum volume of 1 trips on the first hard bounce', async () => {
    const one = { ...SETTINGS, rules: { ...SETTINGS.rules, bounceMinVolume: 1 } };
    expect(await signal('hard_bounced', T, {}, one)).toBe('tripped');
  });

  it('a complaint rule with a minimum volume of 1 trips on one delivery and one complaint', async () => {
    const one = {
      ...SETTINGS,
      rules: { ...SETTINGS.rules, bounceMinVolume: 1000, complaintMinVolume: 1 },
    };
    expect(await signal('delivered', T, {}, one)).toBe('counted');
    const r = await countAndTrip(
      redis,
      keys,
      { accountId: ID, kind: 'complained' },
      one,
      new Date(T),
    );
    expect(r).toMatchObject({ result: 'tripped', reason: 'complaint_rate' });
  });
});

describe('cooldowns', () => {
  it('with cooldowns off a trip stays open: no cooldown, nothing due', async () => {
    await countAndTrip(redis, keys, { accountId: ID, force: true }, SETTINGS, new Date(T));
    expect(await readBreaker(redis, keys, ID)).toMatchObject({
      state: 'open',
      cooldown_s: null,
      open_until: null,
    });
    expect(await breakersDue(redis, keys, T + 86_400_000)).toEqual([]);
  });
});

describe('the tick', () => {
  const cooled = { ...SETTINGS, cooldownS: 60 };

  it('a tick before the cooldown ran out leaves the breaker due at its end', async () => {
    await countAndTrip(redis, keys, { accountId: ID, force: true }, cooled, new Date(T));
    expect(await tickBreaker(redis, keys, ID, TICK, new Date(T + 30_000))).toMatchObject({
      result: 'none',
    });
    expect(await breakersDue(redis, keys, T + MIN)).toEqual([ID]);
  });

  it('a tick before the watch ended leaves the half-open breaker due at its end', async () => {
    await countAndTrip(redis, keys, { accountId: ID, force: true }, cooled, new Date(T));
    expect(await tickBreaker(redis, keys, ID, TICK, new Date(T + MIN))).toMatchObject({
      result: 'half_open',
    });
    expect(await tickBreaker(redis, keys, ID, TICK, new Date(T + 2 * MIN))).toMatchObject({
      result: 'none',
    });
    expect(await breakersDue(redis, keys, T + MIN + 300_000)).toEqual([ID]);
  });

  it('a tick of an open breaker without a cooldown does nothing', async () => {
    await countAndTrip(redis, keys, { accountId: ID, force: true }, SETTINGS, new Date(T));
    expect(await tickBreaker(redis, keys, ID, TICK, new Date(T + MIN))).toMatchObject({
      result: 'none',
    });
    expect(await readBreaker(redis, keys, ID)).toMatchObject({ state: 'open' });
    expect(await breakersDue(redis, keys, T + 86_400_000)).toEqual([]);
  });
});
