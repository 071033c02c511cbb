/**
 * Breaker modes and warning levels in the trip step, against real Redis: a warning level
 * crossed says `breaker.warned` once per window; the trip level in mode warn or watch says
 * `breaker.would_trip` once per window and takes no hold, enqueues nothing; the mode's sources
 * in order (run-time account, settings account, run-time default, settings); a manual trip acts
 * whatever the mode; run-time changes recorded with their actor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BreakerEvent, BreakerMode } from '../../src/model.js';
import { createBreaker, type Breaker } from '../../src/producers/breaker/breaker.js';
import type { BreakerRules } from '../../src/producers/breaker/rules.js';
import { createProducer } from '../../src/queue/enqueue.js';
import { createActionQueue, createUrgentQueue, type ActionQueue } from '../../src/queue/queue.js';
import { readBreaker } from '../../src/store/breaker-state.js';
import { readRecentEvents } from '../../src/store/events.js';
import { readHolds } from '../../src/store/holds.js';
import type { Keys } from '../../src/store/keys.js';
import { redisPerTest, testConfig } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();
const fixture = redisPerTest();

/** Bounces warn at 25 % and trip at 50 % of at least 4; complaints out of reach. */
const RULES: BreakerRules = {
  mode: 'act',
  ownMode: false,
  windowS: 300,
  bounceRate: 0.5,
  bounceWarnRate: 0.25,
  bounceMinVolume: 4,
  complaintRate: 0.5,
  complaintWarnRate: 0.5,
  complaintMinVolume: 1000,
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Rig {
  breaker: Breaker;
  /** The actions queue and the urgent one (where the breaker's intents go). */
  queues: ActionQueue[];
  keys: Keys;
  /** The breaker's clock: moved by the test. */
  clock: { ms: number };
}

function rig(rules: (accountId: string) => BreakerRules = () => RULES): Rig {
  const { redis, keys } = fixture.current();
  const config = testConfig({ prefix: keys.prefix });
  const queue = createActionQueue(config, redis);
  const urgentQueue = createUrgentQueue(config, redis);
  closers.push(
    () => queue.close(),
    () => urgentQueue.close(),
  );
  const producer = createProducer({ redis, queue, urgentQueue, config });
  const clock = { ms: Date.parse('2026-12-08T10:00:30.000Z') };
  const breaker = createBreaker({
    redis,
    keys,
    producer,
    rules,
    dedupeTtlS: 3600,
    eventsMaxLen: 10_000,
    now: () => new Date(clock.ms),
  });
  return { breaker, queues: [queue, urgentQueue], keys, clock };
}

let n = 0;
function feed(r: Rig, accountId: string, outcomes: ('delivered' | 'hard')[]) {
  return outcomes.reduce<Promise<string[]>>(async (prev, o) => {
    const results = await prev;
    const s = await r.breaker.signal({
      id: `sig_${process.pid}_${++n}`,
      account_id: accountId,
      outcome: o === 'hard' ? 'bounced' : 'delivered',
      ...(o === 'hard' ? { bounce_type: 'Permanent' } : {}),
      occurred_at: new Date(r.clock.ms).toISOString(),
    });
    return [...results, s.result];
  }, Promise.resolve([]));
}

async function breakerEvents(keys: Keys, type?: string): Promise<BreakerEvent[]> {
  const events = await readRecentEvents(fixture.current().redis, keys, { limit: 1000 });
  return events
    .filter((e): e is BreakerEvent => e.type.startsWith('breaker.'))
    .filter((e) => type === undefined || e.type === type);
}

/** Jobs waiting in either queue. */
async function queued(queues: ActionQueue[]): Promise<number> {
  let n = 0;
  for (const q of queues) {
    const c = await q.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    n += Object.values(c).reduce((a, b) => a + b, 0);
  }
  return n;
}

const D = 'delivered' as const;
const H = 'hard' as const;

describe('the warning level', () => {
  it('says breaker.warned once per window with the numbers, and again in the next window', async () => {
    const r = rig();
    const id = 'dprov_warn1';
    // 1 hard of 4: 25 %, the warning level exactly.
    expect(await feed(r, id, [D, D, D, H])).toEqual(['counted', 'counted', 'counted', 'warned']);
    // Still over the warning level (2 of 6, 33 %), below the trip: said once per window.
    expect(await feed(r, id, [D, H])).toEqual(['counted', 'counted']);
    const warned = await breakerEvents(r.keys, 'breaker.warned');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({
      type: 'breaker.warned',
      account_id: id,
      reason: 'bounce_rate',
      mode: 'act',
      numbers: { delivered: 3, hard_bounced: 1, bounce_rate: 0.25, window_s: 300 },
    });
    const record = await readBreaker(fixture.current().redis, r.keys, id);
    expect(record).toMatchObject({
      state: 'closed',
      trips: 0,
      last_warning: { reason: 'bounce_rate', mode: 'act', numbers: { hard_bounced: 1 } },
      last_would_trip: null,
    });
    expect(await r.breaker.status(id)).toMatchObject({ warning: 'warned' });
    // A window later the old signals are gone: the next crossing is said again.
    r.clock.ms += 300_000;
    expect((await r.breaker.status(id)).warning).toBeNull();
    expect(await feed(r, id, [D, D, D, H])).toEqual(['counted', 'counted', 'counted', 'warned']);
    expect(await breakerEvents(r.keys, 'breaker.warned')).toHaveLength(2);
    expect((await readHolds(fixture.current().redis, r.keys, id)).holds).toEqual([]);
    expect(await queued(r.queues)).toBe(0);
  });

  it('the complaint rule has its two levels too', async () => {
    // Complaints warn at 1 % and trip at 2 % of at least 100 delivered.
    const r = rig(() => ({
      ...RULES,
      complaintRate: 0.02,
      complaintWarnRate: 0.01,
      complaintMinVolume: 100,
    }));
    const id = 'dprov_complaints';
    const results: string[] = [];
    for (let i = 0; i < 100; i++) results.push(...(await feed(r, id, [D])));
    const complain = async () =>
      (
        await r.breaker.signal({
          id: `sig_${process.pid}_${++n}`,
          account_id: id,
          outcome: 'complained',
          occurred_at: new Date(r.clock.ms).toISOString(),
        })
      ).result;
    expect(await complain()).toBe('warned');
    expect(await complain()).toBe('tripped');
    expect(new Set(results)).toEqual(new Set(['counted']));
    const [warned] = await breakerEvents(r.keys, 'breaker.warned');
    expect(warned).toMatchObject({
      reason: 'complaint_rate',
      numbers: { delivered: 100, complained: 1, complaint_rate: 0.01 },
    });
    expect(await breakerEvents(r.keys, 'breaker.tripped')).toMatchObject([
      { reason: 'complaint_rate', numbers: { complained: 2, complaint_rate: 0.02 } },
    ]);
  });

  it('a warning level equal to the trip level warns never: the crossing trips', async () => {
    const r = rig(() => ({ ...RULES, bounceWarnRate: RULES.bounceRate }));
    const id = 'dprov_warn2';
    expect(await feed(r, id, [D, D, D, H, H])).toEqual([
      'counted',
      'counted',
      'counted',
      'counted',
      'counted',
    ]);
    expect(await feed(r, id, [H])).toEqual(['tripped']);
    expect(await breakerEvents(r.keys, 'breaker.warned')).toEqual([]);
  });

  it('in mode act, a crossing of the trip level trips (no would_trip)', async () => {
    const r = rig();
    const id = 'dprov_act1';
    // 1 of 4 warns (25 %); 3 of 6 trips (50 %).
    expect(await feed(r, id, [D, D, D, H, H, H, H])).toEqual([
      'counted',
      'counted',
      'counted',
      'warned',
      'counted',
      'tripped',
      'open',
    ]);
    expect(await breakerEvents(r.keys, 'breaker.would_trip')).toEqual([]);
    expect((await readHolds(fixture.current().redis, r.keys, id)).holds).toMatchObject([
      { id: 'breaker' },
    ]);
    expect(await queued(r.queues)).toBe(1);
  });
});

describe('modes', () => {
  it.each(['watch', 'warn'] as const)(
    'in mode %s the trip level says breaker.would_trip once per window: no hold, no deactivation',
    async (mode) => {
      const r = rig(() => ({ ...RULES, mode }));
      const id = `dprov_${mode}1`;
      // 2 of 4: the trip level (below the minimum volume before); would_trip says more than
      // a warning, so no warning is said with it.
      expect(await feed(r, id, [D, D, H, H])).toEqual([
        'counted',
        'counted',
        'counted',
        'would_trip',
      ]);
      // More bounces in the same window: nothing more is said, nothing trips.
      expect(await feed(r, id, [H, H, H])).toEqual(['counted', 'counted', 'counted']);
      const would = await breakerEvents(r.keys, 'breaker.would_trip');
      expect(would).toHaveLength(1);
      expect(would[0]).toMatchObject({
        account_id: id,
        reason: 'bounce_rate',
        mode,
        numbers: { delivered: 2, hard_bounced: 2, bounce_rate: 0.5 },
      });
      expect(await breakerEvents(r.keys, 'breaker.tripped')).toEqual([]);
      const { redis } = fixture.current();
      expect(await readBreaker(redis, r.keys, id)).toMatchObject({
        state: 'closed',
        trips: 0,
        last_would_trip: { reason: 'bounce_rate', mode },
      });
      expect((await readHolds(redis, r.keys, id)).holds).toEqual([]);
      expect(await queued(r.queues)).toBe(0);
      // The next window says it again.
      r.clock.ms += 300_000;
      expect(await feed(r, id, [D, H, H, H])).toEqual([
        'counted',
        'counted',
        'counted',
        'would_trip',
      ]);
      expect(await breakerEvents(r.keys, 'breaker.would_trip')).toHaveLength(2);
    },
  );

  it('a manual trip acts whatever the mode', async () => {
    const r = rig(() => ({ ...RULES, mode: 'watch' }));
    const t = await r.breaker.trip('dprov_manual1', 'by hand', 'alice');
    expect(t).toMatchObject({ result: 'tripped', reason: 'manual' });
    expect(await queued(r.queues)).toBe(1);
  });

  it('reads the mode most specific first: run-time account, settings account, run-time default, settings', async () => {
    // dprov_own has its own mode in the settings (watch); the others take the default (act).
    const r = rig((id) =>
      id === 'dprov_own' ? { ...RULES, mode: 'watch', ownMode: true } : RULES,
    );
    const cross = async (id: string) => {
      r.clock.ms += 300_000; // a fresh window each time
      const results = await feed(r, id, [D, H, H, H]);
      return results.at(-1);
    };
    const expectMode = async (id: string, mode: BreakerMode, from: string) => {
      expect((await r.breaker.status(id)).mode).toEqual({ mode, from });
    };
    await expectMode('dprov_own', 'watch', 'settings_account');
    await expectMode('dprov_other', 'act', 'settings');
    expect(await cross('dprov_own')).toBe('would_trip');
    // The run-time default is below an account's own settings...
    await r.breaker.setMode(null, 'warn', 'ops');
    await expectMode('dprov_own', 'watch', 'settings_account');
    await expectMode('dprov_other', 'warn', 'runtime_default');
    expect(await cross('dprov_own')).toBe('would_trip');
    expect(await cross('dprov_other')).toBe('would_trip');
    let would = await breakerEvents(r.keys, 'breaker.would_trip');
    expect(would.map((e) => [e.type === 'breaker.would_trip' && e.mode])).toEqual([
      ['watch'],
      ['watch'],
      ['warn'],
    ]);
    // ...and the run-time mode of an account above everything.
    await r.breaker.setMode('dprov_own', 'act', 'ops');
    await expectMode('dprov_own', 'act', 'runtime_account');
    expect(await cross('dprov_own')).toBe('tripped');
    // Cleared: the settings apply again.
    await r.breaker.setMode(null, null, 'ops');
    await expectMode('dprov_other', 'act', 'settings');
    expect(await cross('dprov_other')).toBe('tripped');
    would = await breakerEvents(r.keys, 'breaker.would_trip');
    expect(would).toHaveLength(3);
  });

  it('records each run-time change with its actor and what it replaced; an unchanged mode records nothing', async () => {
    const r = rig();
    expect(await r.breaker.setMode(null, 'watch', 'alice')).toEqual({
      accountId: null,
      mode: 'watch',
      previous: null,
      changed: true,
    });
    expect(await r.breaker.setMode(null, 'watch', 'bob')).toMatchObject({ changed: false });
    expect(await r.breaker.setMode('dprov_m1', 'act', 'bob')).toMatchObject({ changed: true });
    expect(await r.breaker.setMode(null, 'warn', 'carol')).toMatchObject({ previous: 'watch' });
    expect(await r.breaker.setMode('dprov_m1', null, 'dave')).toMatchObject({
      mode: null,
      previous: 'act',
      changed: true,
    });
    const changes = await breakerEvents(r.keys, 'breaker.mode_changed');
    expect(
      changes.map(
        (e) => e.type === 'breaker.mode_changed' && [e.account_id, e.previous, e.mode, e.actor],
      ),
    ).toEqual([
      [null, null, 'watch', 'alice'],
      ['dprov_m1', null, 'act', 'bob'],
      [null, 'watch', 'warn', 'carol'],
      ['dprov_m1', 'act', null, 'dave'],
    ]);
    expect(await r.breaker.modes()).toEqual({
      default: { mode: 'warn', from: 'runtime', settings: 'act' },
      accounts: [],
    });
  });
});
