/**
 * The guards of store/breaker-reset.ts (a reset, and the release it shares with the half-open
 * step) and the key checks of store/breaker-tick.ts and store/breaker-trip.ts, one test per promise (issue 19 §4): each
 * fails with its guard broken (the mutations of test/guards/guards.ts, `npm run test:guards`).
 * Real Redis, a prefix per test; the steps called through the store's functions.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { fingerprint, type BreakerEvent } from '../../src/model.js';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { resetBreaker } from '../../src/store/breaker-reset.js';
import { readBreaker } from '../../src/store/breaker-state.js';
import { tickBreaker } from '../../src/store/breaker-tick.js';
import { countAndTrip } from '../../src/store/breaker-trip.js';
import { claimKeys } from '../../src/store/claim-keys.js';
import { readRecentEvents } from '../../src/store/events.js';
import { readHolds, takeHold } from '../../src/store/holds.js';
import type { Keys } from '../../src/store/keys.js';
import { observeAccounts } from '../../src/store/observe-accounts.js';
import { redisPerTest } from '../support/context.js';
import { afterFirstPipeline } from '../support/race.js';
import { TRIP_SETTINGS } from '../support/trip-settings.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const ID = 'dprov_b1';
const SETTINGS = TRIP_SETTINGS;
const RESET = { windowS: 900, eventsMaxLen: 1000 };
/** Half a minute into a minute. */
const T = Date.parse('2026-03-01T10:00:30.000Z');
const MIN = 60_000;

/** The account as the API listed it: on (the breaker's hold then has base `active`). */
const knownActive = (id = ID) =>
  observeAccounts(redis, keys, [
    { id, status: 'active', is_active: true, status_reason: null, updated_at: null },
  ]);

async function forceTrip(now: number, client: Redis = redis) {
  const t = await countAndTrip(
    client,
    keys,
    { accountId: ID, force: true },
    SETTINGS,
    new Date(now),
  );
  if (t.result !== 'tripped') throw new Error(`expected a trip, got ${t.result}`);
  return t;
}

async function breakerEvents(): Promise<BreakerEvent[]> {
  const events = await readRecentEvents(redis, keys, { limit: 100 });
  return events.filter((e): e is BreakerEvent => e.type.startsWith('breaker.'));
}

describe('reset guards', () => {
  it('a half-open breaker is reset too: closed, nothing more to release', async () => {
    await knownActive();
    await countAndTrip(
      redis,
      keys,
      { accountId: ID, force: true },
      { ...SETTINGS, cooldownS: 60 },
      new Date(T),
    );
    const half = await tickBreaker(
      redis,
      keys,
      ID,
      { windowS: 900, watchS: 300, eventsMaxLen: 1000 },
      new Date(T + MIN),
    );
    expect(half).toMatchObject({ result: 'half_open' });
    const r = await resetBreaker(redis, keys, ID, RESET, new Date(T + 2 * MIN));
    expect(r).toMatchObject({ result: 'reset', activateKey: null, hold: { released: false } });
    expect(await readBreaker(redis, keys, ID)).toMatchObject({ state: 'closed' });
  });

  it('a reset starts the window afresh: its oldest and its newest minute both forgotten', async () => {
    // One hard bounce in the window's oldest minute, one in its newest: the second trips.
    expect(
      (
        await countAndTrip(
          redis,
          keys,
          { accountId: ID, kind: 'hard_bounced', occurredAt: new Date(T - 14 * MIN) },
          SETTINGS,
          new Date(T),
        )
      ).result,
    ).toBe('counted');
    expect(
      (
        await countAndTrip(
          redis,
          keys,
          { accountId: ID, kind: 'hard_bounced' },
          SETTINGS,
          new Date(T),
        )
      ).result,
    ).toBe('tripped');
    expect((await resetBreaker(redis, keys, ID, RESET, new Date(T))).result).toBe('reset');
    // One delivery after the reset: a window of 1 (below the minimum volume), not 3 at 67 %.
    expect(
      (await countAndTrip(redis, keys, { accountId: ID, kind: 'delivered' }, SETTINGS, new Date(T)))
        .result,
    ).toBe('counted');
  });

  it("an activation key bound to another intent is not the reset's activation", async () => {
    await knownActive();
    const t = await forceTrip(T);
    const key = `breaker:${ID}:${t.tripId}:reset`;
    const other = 'dprov_other';
    await claimKeys(redis, keys, [
      {
        key,
        fingerprint: fingerprint({ action: 'deactivate', accountId: other, source: 'manual' }),
        action: 'deactivate',
        accountId: other,
        source: 'manual',
      },
    ]);
    const r = await resetBreaker(redis, keys, ID, RESET, new Date(T + MIN));
    expect(r).toMatchObject({
      result: 'reset',
      activateKey: null,
      hold: { released: true, last: true, before: 'active' },
    });
    expect(await redis.hget(keys.breaker(ID), 'pending_activation')).toBeNull();
    expect((await breakerEvents()).find((e) => e.type === 'breaker.reset')).toMatchObject({
      idempotency_key: null,
    });
  });

  it("the reset event's base: what the account goes back to when it was the last hold, null when another hold keeps it off", async () => {
    await knownActive();
    await forceTrip(T);
    await resetBreaker(redis, keys, ID, RESET, new Date(T + MIN));
    await takeHold(redis, keys, ID, { id: 'manual', source: 'manual' });
    await forceTrip(T + 2 * MIN);
    await resetBreaker(redis, keys, ID, RESET, new Date(T + 3 * MIN));
    const resets = (await breakerEvents()).filter((e) => e.type === 'breaker.reset');
    const seen = resets.map((e) => JSON.stringify([e.base, e.still_held_by])).sort();
    expect(seen).toEqual(['["active",[]]', '[null,["manual"]]']);
  });

  it('a reset whose breaker tripped again after its keys were read resets the new trip, with its activation', async () => {
    await knownActive();
    await forceTrip(T);
    // Right after the reset read its keys (the trip's activation binding among them), another
    // reset and a new trip land: the breaker is open under another trip.
    let second = '';
    const race = afterFirstPipeline(redis, async (real) => {
      await resetBreaker(real, keys, ID, RESET, new Date(T + MIN));
      second = (await forceTrip(T + 2 * MIN, real)).tripId;
    });
    const r = await resetBreaker(race.client, keys, ID, RESET, new Date(T + 3 * MIN));
    expect(race.fired()).toBe(true);
    expect(r).toMatchObject({
      result: 'reset',
      tripId: second,
      activateKey: `breaker:${ID}:${second}:reset`,
      hold: { released: true, last: true, before: 'active' },
    });
    expect(await readHolds(redis, keys, ID)).toMatchObject({ holds: [] });
  });
});

describe('half-open step guards', () => {
  it('a half-open step whose breaker tripped again after its keys were read steps the new trip', async () => {
    await knownActive();
    const cooled = { ...SETTINGS, cooldownS: 60 };
    await countAndTrip(redis, keys, { accountId: ID, force: true }, cooled, new Date(T));
    const tick = { windowS: 900, watchS: 300, eventsMaxLen: 1000 };
    // Right after the step read its keys (the trip's half-open activation binding among them),
    // another process's step lands (that very activation) and a new trip, due by now too.
    let second = '';
    const race = afterFirstPipeline(redis, async (real) => {
      await tickBreaker(real, keys, ID, tick, new Date(T + MIN));
      const t = await countAndTrip(
        real,
        keys,
        { accountId: ID, force: true },
        cooled,
        new Date(T + 2 * MIN),
      );
      if (t.result === 'tripped') second = t.tripId;
    });
    const r = await tickBreaker(race.client, keys, ID, tick, new Date(T + 10 * MIN));
    expect(race.fired()).toBe(true);
    expect(r).toMatchObject({
      result: 'half_open',
      tripId: second,
      activateKey: `breaker:${ID}:${second}:half-open`,
    });
  });
});

describe('trip guards', () => {
  it('a trip whose account got a newer intent after its keys were read runs again with its binding', async () => {
    const race = afterFirstPipeline(redis, (real) =>
      claimKeys(real, keys, [
        {
          key: 'late',
          fingerprint: fingerprint({ action: 'deactivate', accountId: ID, source: 'manual' }),
          action: 'deactivate',
          accountId: ID,
          source: 'manual',
        },
      ]),
    );
    const t = await countAndTrip(
      race.client,
      keys,
      { accountId: ID, force: true },
      SETTINGS,
      new Date(T),
    );
    expect(race.fired()).toBe(true);
    expect(t.result).toBe('tripped');
    // The late deactivation is pending: the hold's base is what it will make the account.
    expect(await readHolds(redis, keys, ID)).toMatchObject({ before: 'inactive' });
  });
});
