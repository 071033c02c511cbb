/**
 * The bounce-spike breaker against real Redis (and, for the full path, the simulator and real
 * workers): holds, the rules at their boundaries (property-based), dedupe, one trip for three
 * concurrent evaluators, reset with and without another hold, a trip ahead of a backlog.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { IntentValidationError } from '../../src/errors.js';
import type { BreakerEvent } from '../../src/model.js';
import { createBreaker, type Breaker } from '../../src/producers/breaker/breaker.js';
import type { BreakerRules } from '../../src/producers/breaker/rules.js';
import { createProducer } from '../../src/queue/enqueue.js';
import { createActionQueue, createUrgentQueue } from '../../src/queue/queue.js';
import type { RedisClient } from '../../src/redis/connect.js';
import { simAccountId } from '../../src/sim/index.js';
import { resetBreaker } from '../../src/store/breaker-reset.js';
import { readBreaker } from '../../src/store/breaker-state.js';
import { countAndTrip } from '../../src/store/breaker-trip.js';
import { readRecentEvents } from '../../src/store/events.js';
import { seenState } from '../../src/store/hold-record.js';
import { readHolds, releaseHold, takeHold } from '../../src/store/holds.js';
import type { Keys } from '../../src/store/keys.js';
import { observeAccounts } from '../../src/store/observe-accounts.js';
import { redisPerTest, testConfig, testRedis } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { ACT_RULES } from '../support/trip-settings.js';

sharedFixtures();
const fixture = redisPerTest();

const RULES: BreakerRules = ACT_RULES;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A breaker on the test's prefix, with its own queue (no workers: jobs just wait). */
function breakerOn(keys: Keys, rules: BreakerRules = RULES, connection?: RedisClient): Breaker {
  const redis = connection ?? fixture.current().redis;
  const config = testConfig({ prefix: keys.prefix });
  const queue = createActionQueue(config, redis);
  const urgentQueue = createUrgentQueue(config, redis);
  closers.push(
    () => queue.close(),
    () => urgentQueue.close(),
  );
  const producer = createProducer({ redis, queue, urgentQueue, config });
  return createBreaker({
    redis,
    keys,
    producer,
    rules: () => rules,
    dedupeTtlS: 3600,
    eventsMaxLen: 10_000,
  });
}

let n = 0;
const signal = (
  accountId: string,
  outcome: 'delivered' | 'bounced' | 'complained' | 'rejected',
  extra: { bounce_type?: string; id?: string } = {},
) => ({
  id: extra.id ?? `evt_${process.pid}_${++n}`,
  account_id: accountId,
  outcome,
  occurred_at: new Date().toISOString(),
  ...(extra.bounce_type ? { bounce_type: extra.bounce_type } : {}),
});

async function breakerEvents(keys: Keys): Promise<BreakerEvent[]> {
  const events = await readRecentEvents(fixture.current().redis, keys, { limit: 1000 });
  return events.filter((e): e is BreakerEvent => e.type.startsWith('breaker.'));
}

/** Record that the API listed the account as active (as the breaker's account listing does). */
async function knownActive(redis: RedisClient, keys: Keys, accountId: string): Promise<void> {
  await observeAccounts(redis, keys, [
    { id: accountId, status: 'active', is_active: true, status_reason: null, updated_at: null },
  ]);
}

describe('holds', () => {
  it('reactivates only on the last release, and only if the account was on before the first hold', async () => {
    const { redis, keys } = fixture.current();
    expect(
      await takeHold(
        redis,
        keys,
        'dprov_a',
        { id: 'window:w1', source: 'window' },
        seenState('active'),
      ),
    ).toMatchObject({ taken: true, base: 'active', needOff: true });
    // A second hold does not change what the account was before the first.
    await takeHold(
      redis,
      keys,
      'dprov_a',
      { id: 'breaker', source: 'breaker', ref: 't1' },
      seenState('inactive'),
    );
    expect(
      await takeHold(
        redis,
        keys,
        'dprov_a',
        { id: 'breaker', source: 'breaker' },
        seenState('active'),
      ),
    ).toMatchObject({ taken: false, base: 'active' });
    const held = await readHolds(redis, keys, 'dprov_a');
    expect(held.before).toBe('active');
    expect(held.holds.map((h) => h.id).sort()).toEqual(['breaker', 'window:w1']);

    expect(await releaseHold(redis, keys, 'dprov_a', 'breaker')).toEqual({
      released: true,
      last: false,
      heldBy: ['window:w1'],
    });
    expect(await releaseHold(redis, keys, 'dprov_a', 'breaker')).toEqual({ released: false });
    expect(await releaseHold(redis, keys, 'dprov_a', 'window:w1')).toEqual({
      released: true,
      last: true,
      before: 'active',
    });
    expect((await readHolds(redis, keys, 'dprov_a')).holds).toEqual([]);

    // Off before the first hold: it stays off after the last.
    await takeHold(
      redis,
      keys,
      'dprov_b',
      { id: 'manual', source: 'manual' },
      seenState('inactive'),
    );
    expect(await releaseHold(redis, keys, 'dprov_b', 'manual')).toEqual({
      released: true,
      last: true,
      before: 'inactive',
    });
  });
});

describe('the rules', () => {
  it('trips on the signal that crosses the bounce rule, not before, and records the numbers', async () => {
    const { keys } = fixture.current();
    const b = breakerOn(keys);
    const id = 'dprov_bounce';
    // 94 delivered + 5 hard bounces = 99 outcomes: 5.05 % but below the minimum volume.
    for (let i = 0; i < 94; i++)
      expect((await b.signal(signal(id, 'delivered'))).result).toBe('counted');
    for (let i = 0; i < 5; i++)
      expect((await b.signal(signal(id, 'bounced', { bounce_type: 'Permanent' }))).result).toBe(
        'counted',
      );
    // Soft bounces add to the volume, not to the rate's numerator: 5 / 100 = 5 % -> trips.
    const r = await b.signal(signal(id, 'bounced', { bounce_type: 'Transient' }));
    expect(r).toMatchObject({ result: 'tripped', reason: 'bounce_rate' });
    if (r.result !== 'tripped') return;
    expect(r.numbers).toEqual({
      window_s: 900,
      delivered: 94,
      bounced: 6,
      hard_bounced: 5,
      complained: 0,
      rejected: 0,
      bounce_rate: 0.05,
      complaint_rate: 0,
    });
    expect(r.idempotencyKey).toBe(`breaker:${id}:${r.tripId}`);
    // Open: later signals are counted, nothing trips again.
    expect((await b.signal(signal(id, 'bounced', { bounce_type: 'Permanent' }))).result).toBe(
      'open',
    );
    const [event] = await breakerEvents(keys);
    expect(event).toMatchObject({
      type: 'breaker.tripped',
      account_id: id,
      trip_id: r.tripId,
      reason: 'bounce_rate',
      numbers: r.numbers,
      idempotency_key: r.idempotencyKey,
    });
    expect((await readHolds(fixture.current().redis, keys, id)).holds.map((h) => h.id)).toEqual([
      'breaker',
    ]);
    expect(await readBreaker(fixture.current().redis, keys, id)).toMatchObject({
      state: 'open',
      trips: 1,
      last_trip: { enqueued: true },
    });
  });

  it('trips on the complaint rule at its minimum volume', async () => {
    const { keys } = fixture.current();
    const b = breakerOn(keys, {
      ...RULES,
      complaintMinVolume: 50,
      complaintRate: 0.02,
      complaintWarnRate: 0.02,
    });
    const id = 'dprov_complaints';
    expect((await b.signal(signal(id, 'complained'))).result).toBe('counted');
    for (let i = 0; i < 49; i++)
      expect((await b.signal(signal(id, 'delivered'))).result).toBe('counted');
    // 1 complaint / 50 delivered = 2 %.
    expect(await b.signal(signal(id, 'delivered'))).toMatchObject({
      result: 'tripped',
      reason: 'complaint_rate',
    });
  });

  it('counts a signal id once, and refuses a bad signal naming the field', async () => {
    const { keys, redis } = fixture.current();
    const b = breakerOn(keys);
    const s = signal('dprov_dup', 'delivered', { id: 'evt_same' });
    expect((await b.signal(s)).result).toBe('counted');
    expect((await b.signal(s)).result).toBe('duplicate');
    expect((await b.status('dprov_dup')).window.delivered).toBe(1);
    await expect(b.signal({ ...s, id: 'evt_x', outcome: 'opened' })).rejects.toThrow(
      /outcome: must be one of/,
    );
    await expect(b.signal({ ...s, id: 'evt_y', account_id: 'nope' })).rejects.toBeInstanceOf(
      IntentValidationError,
    );
    await expect(b.signal({ ...s, id: 'evt_z', occurred_at: 'yesterday' })).rejects.toThrow(
      /occurred_at/,
    );
    // An old signal (before the window) is not counted.
    const old = new Date(Date.now() - 901_000).toISOString();
    expect((await b.signal({ ...s, id: 'evt_old', occurred_at: old })).result).toBe('stale');
    expect(await redis.exists(keys.signalSeen('evt_x'))).toBe(0);
  });

  it('never trips below the minimum volume, always at or above the rate with enough volume (property)', async () => {
    const { keys } = fixture.current();
    let account = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('delivered', 'hard', 'soft', 'complained'), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(0.05, 0.1, 0.2, 1 / 3, 0.5, 1),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(0.01, 0.1, 0.25),
        async (outcomes, bounceMinVolume, bounceRate, complaintMinVolume, complaintRate) => {
          const rules: BreakerRules = {
            mode: 'act',
            ownMode: false,
            windowS: 900,
            bounceRate,
            bounceWarnRate: bounceRate,
            bounceMinVolume,
            complaintRate,
            complaintWarnRate: complaintRate,
            complaintMinVolume,
          };
          const b = breakerOn(keys, rules);
          const id = `dprov_prop${++account}`;
          let d = 0,
            h = 0,
            s = 0,
            c = 0;
          let expected: number | undefined; // index of the signal that must trip
          for (const [i, o] of outcomes.entries()) {
            if (o === 'delivered') d++;
            else if (o === 'hard') h++;
            else if (o === 'soft') s++;
            else c++;
            const volume = d + h + s;
            const bounce = volume > 0 && volume >= bounceMinVolume && h / volume >= bounceRate;
            const complaint = d > 0 && d >= complaintMinVolume && c / d >= complaintRate;
            if (expected === undefined && (bounce || complaint)) expected = i;
          }
          let tripped: number | undefined;
          for (const [i, o] of outcomes.entries()) {
            const r = await b.signal(
              o === 'hard'
                ? signal(id, 'bounced', { bounce_type: 'Permanent' })
                : o === 'soft'
                  ? signal(id, 'bounced', { bounce_type: 'Undetermined' })
                  : signal(id, o),
            );
            if (r.result === 'tripped') {
              expect(tripped).toBeUndefined();
              tripped = i;
            }
          }
          expect(tripped).toBe(expected);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('trip once', () => {
  it('three evaluators on their own connections, one spike: one trip, one intent, one event', async () => {
    const { keys } = fixture.current();
    const connections = [0, 1, 2].map(() => testRedis(keys.prefix));
    closers.push(async () => {
      await Promise.all(connections.map((r) => r.quit()));
    });
    const breakers = connections.map((r) =>
      breakerOn(keys, { ...RULES, bounceMinVolume: 30, bounceRate: 0.5, bounceWarnRate: 0.5 }, r),
    );
    const id = 'dprov_spike';
    // 90 hard bounces spread over the three, all at once: the rule crosses at the 30th.
    const results = await Promise.all(
      Array.from({ length: 90 }, (_, i) =>
        (breakers[i % 3] as Breaker).signal(signal(id, 'bounced', { bounce_type: 'Permanent' })),
      ),
    );
    expect(results.filter((r) => r.result === 'tripped')).toHaveLength(1);
    expect((await breakerEvents(keys)).filter((e) => e.type === 'breaker.tripped')).toHaveLength(1);
    // The breaker's intents go to the urgent queue.
    const queue = createUrgentQueue(testConfig({ prefix: keys.prefix }), fixture.current().redis);
    closers.push(() => queue.close());
    expect(await queue.getJobCountByTypes('wait', 'prioritized', 'delayed')).toBe(1);
  });
});

describe('reset', () => {
  it('without another hold: closes, fresh window, and asks for the account back', async () => {
    const { keys, redis } = fixture.current();
    const b = breakerOn(keys);
    await knownActive(redis, keys, 'dprov_r1');
    const t = await b.trip('dprov_r1', 'test');
    expect(t.result).toBe('tripped');
    if (t.result !== 'tripped') return;
    expect((await b.trip('dprov_r1')).result).toBe('open');
    const r = await b.reset('dprov_r1');
    expect(r).toMatchObject({
      result: 'reset',
      tripId: t.tripId,
      activateKey: `breaker:dprov_r1:${t.tripId}:reset`,
      hold: { released: true, last: true, before: 'active' },
    });
    expect((await b.reset('dprov_r1')).result).toBe('not_open');
    expect(await readBreaker(redis, keys, 'dprov_r1')).toMatchObject({ state: 'closed' });
    const reset = (await breakerEvents(keys)).find((e) => e.type === 'breaker.reset');
    expect(reset).toMatchObject({
      trip_id: t.tripId,
      idempotency_key: `breaker:dprov_r1:${t.tripId}:reset`,
      still_held_by: [],
    });
  });

  it('with another hold: releases only its own, the account stays off', async () => {
    const { keys, redis } = fixture.current();
    const b = breakerOn(keys);
    await takeHold(
      redis,
      keys,
      'dprov_r2',
      { id: 'window:w9', source: 'window' },
      seenState('active'),
    );
    await b.trip('dprov_r2');
    const r = await b.reset('dprov_r2');
    expect(r).toMatchObject({
      result: 'reset',
      activateKey: null,
      hold: { released: true, last: false, heldBy: ['window:w9'] },
    });
    expect((await readHolds(redis, keys, 'dprov_r2')).holds.map((h) => h.id)).toEqual([
      'window:w9',
    ]);
    const reset = (await breakerEvents(keys)).find((e) => e.type === 'breaker.reset');
    expect(reset).toMatchObject({ idempotency_key: null, still_held_by: ['window:w9'] });
  });
});

describe('recovery after a crash', () => {
  it("enqueues a trip, or a reset's activation, that a crash left unenqueued; once", async () => {
    const { keys, redis } = fixture.current();
    const b = breakerOn(keys);
    const settings = { rules: RULES, dedupeTtlS: 3600, eventsMaxLen: 10_000 };
    await knownActive(redis, keys, 'dprov_crash');
    // The store steps alone, as if the process died right after each.
    const t = await countAndTrip(redis, keys, { accountId: 'dprov_crash', force: true }, settings);
    expect(t.result).toBe('tripped');
    expect(await readBreaker(redis, keys, 'dprov_crash')).toMatchObject({
      last_trip: { enqueued: false },
    });
    const queue = createUrgentQueue(testConfig({ prefix: keys.prefix }), redis);
    closers.push(() => queue.close());
    expect(await queue.count()).toBe(0);
    expect(await b.recover()).toBe(1);
    expect(await queue.count()).toBe(1);
    expect(await readBreaker(redis, keys, 'dprov_crash')).toMatchObject({
      last_trip: { enqueued: true },
    });
    const r = await resetBreaker(redis, keys, 'dprov_crash', {
      windowS: 900,
      eventsMaxLen: 10_000,
    });
    expect(r).toMatchObject({
      result: 'reset',
      activateKey: expect.stringMatching(/:reset$/) as string,
    });
    expect(await b.recover()).toBe(1);
    expect(await queue.count()).toBe(2);
    // Nothing left to recover: a second run does nothing.
    expect(await b.recover()).toBe(0);
    expect(await queue.count()).toBe(2);
  });
});

describe('half-open after a cooldown', () => {
  it('goes half-open by itself, asks for the account back, doubles the cooldown on a new trip, closes after the watch', async () => {
    const { keys, redis } = fixture.current();
    let t = Date.parse('2026-11-28T10:00:00Z');
    const config = testConfig({ prefix: keys.prefix });
    const actions = createActionQueue(config, redis);
    const queue = createUrgentQueue(config, redis);
    closers.push(
      () => actions.close(),
      () => queue.close(),
    );
    const b = createBreaker({
      redis,
      keys,
      producer: createProducer({ redis, queue: actions, urgentQueue: queue, config }),
      rules: () => RULES,
      dedupeTtlS: 3600,
      eventsMaxLen: 10_000,
      cooldownS: 60,
      cooldownMaxS: 100,
      halfOpenWatchS: 300,
      now: () => new Date(t),
    });
    const id = 'dprov_half';
    await knownActive(redis, keys, id);
    const first = await b.trip(id);
    expect(first.result).toBe('tripped');
    expect(await b.status(id)).toMatchObject({
      state: 'open',
      cooldown_s: 60,
      open_until: '2026-11-28T10:01:00.000Z',
    });
    t += 59_000;
    expect(await b.tick()).toEqual({ halfOpen: [], closed: [] });
    t += 1_000;
    expect(await b.tick()).toEqual({ halfOpen: [id], closed: [] });
    const half = await b.status(id);
    expect(half).toMatchObject({ state: 'half_open', holds: { holds: [] } });
    if (first.result !== 'tripped') return;
    const activateKey = `breaker:${id}:${first.tripId}:half-open`;
    expect(await queue.getJob(`k-${activateKey.replace(/:/g, '%3A')}@2`)).toBeDefined();
    expect((await breakerEvents(keys)).find((e) => e.type === 'breaker.half_open')).toMatchObject({
      idempotency_key: activateKey,
      cooldown_s: 60,
      still_held_by: [],
    });
    // Ticking again, or from another process, does nothing more.
    expect(await b.tick()).toEqual({ halfOpen: [], closed: [] });

    // A trip while half-open: open again, twice the cooldown (capped at 100).
    expect((await b.trip(id)).result).toBe('tripped');
    expect(await b.status(id)).toMatchObject({ state: 'open', cooldown_s: 100 });
    t += 100_000;
    expect(await b.tick()).toEqual({ halfOpen: [id], closed: [] });
    // Watched 300 s without a trip: closed; the next trip starts from 60 s again.
    t += 299_000;
    expect(await b.tick()).toEqual({ halfOpen: [], closed: [] });
    t += 1_000;
    expect(await b.tick()).toEqual({ halfOpen: [], closed: [id] });
    expect((await breakerEvents(keys)).filter((e) => e.type === 'breaker.closed')).toHaveLength(1);
    expect((await b.trip(id)).result).toBe('tripped');
    expect(await b.status(id)).toMatchObject({ state: 'open', cooldown_s: 60 });
  });

  it('without a cooldown stays open: only a reset closes it', async () => {
    const { keys } = fixture.current();
    const b = breakerOn(keys);
    await b.trip('dprov_stay');
    expect(await b.status('dprov_stay')).toMatchObject({
      state: 'open',
      cooldown_s: null,
      open_until: null,
    });
    expect(await fixture.current().redis.zcard(keys.breakerDue)).toBe(0);
    expect(await b.tick()).toEqual({ halfOpen: [], closed: [] });
  });
});

describe('the full path', () => {
  let p: Pipeline | undefined;
  afterEach(async () => {
    await p?.stop();
    p = undefined;
  });

  it('signals -> trip -> the deactivate call at the simulator, ahead of a backlog; reset brings it back', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 40 } });
    const pipeline = p;
    const b = createBreaker({
      redis: pipeline.redis,
      keys: pipeline.keys,
      producer: pipeline.producer,
      rules: () => ({ ...RULES, bounceMinVolume: 10, bounceRate: 0.5, bounceWarnRate: 0.5 }),
      dedupeTtlS: 3600,
      eventsMaxLen: 10_000,
    });
    // A backlog of 30 other accounts waits on the queue.
    const backlog = Array.from({ length: 30 }, (_, i) => simAccountId(i + 2));
    await pipeline.producer.enqueueMany(
      backlog.map((id) => ({
        action: 'deactivate' as const,
        accountId: id,
        idempotencyKey: `backlog-${id}`,
        source: 'manual' as const,
      })),
    );
    const target = simAccountId(1);
    // What the breaker service's account listing records (ops/breaker-service.ts): on.
    await knownActive(pipeline.redis, pipeline.keys, target);
    let trip;
    for (let i = 0; i < 10; i++)
      trip = await b.signal(signal(target, 'bounced', { bounce_type: 'Permanent' }));
    expect(trip?.result).toBe('tripped');
    if (trip?.result !== 'tripped') return;
    // One worker, one call at a time per queue, the actions queue's a slot of 100 ms: the
    // trip's call (the urgent queue's, no slot) comes first, or beside the backlog's first.
    await pipeline.addWorker({ concurrency: 1, rateLimitPerMinute: 600 });
    await pipeline.waitFor([trip.idempotencyKey]);
    const firstDone = Object.keys(pipeline.sim.stats().executions.byKey);
    expect(firstDone.slice(0, 2)).toContain(trip.idempotencyKey);
    expect(pipeline.sim.account(target)?.status).toBe('inactive');
    expect(pipeline.sim.stats().executions.byKey[trip.idempotencyKey]).toBe(1);

    const r = await b.reset(target);
    expect(r.result === 'reset' && r.activateKey).toBeTruthy();
    if (r.result !== 'reset' || !r.activateKey) return;
    await pipeline.waitFor([r.activateKey, ...backlog.map((id) => `backlog-${id}`)]);
    expect(pipeline.sim.account(target)?.status).toBe('active');
  });
});
