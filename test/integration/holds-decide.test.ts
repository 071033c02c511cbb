/**
 * Issue 17's reproduced cases, each as it broke: one decision per account (store/holds.ts),
 * checked at the call (store/begin-run.ts). Real Redis, the simulator, real workers; the window
 * steps are called directly (as the windows queue would) so the interleavings are exact.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BreakerResetEvent, WindowStartedEvent } from '../../src/model.js';
import { cancelBatch } from '../../src/ops/batch-cancel.js';
import { overviewReader } from '../../src/ops/overview.js';
import { openWindows, type WindowsHandle } from '../../src/ops/windows.js';
import { createBreaker, type Breaker } from '../../src/producers/breaker/breaker.js';
import { runBulkPass } from '../../src/producers/bulk/run.js';
import { runManual } from '../../src/producers/manual.js';
import { occurrenceId } from '../../src/producers/windows/spec.js';
import type { Producer } from '../../src/queue/enqueue.js';
import { simAccountId } from '../../src/sim/index.js';
import { readBatch } from '../../src/store/batch-read.js';
import { readBindings } from '../../src/store/binding.js';
import { countAndTrip } from '../../src/store/breaker-trip.js';
import { readRecentEvents } from '../../src/store/events.js';
import { readHolds, releaseHolds, takeHold } from '../../src/store/holds.js';
import { observeAccounts } from '../../src/store/observe-accounts.js';
import { waitFor } from '../support/context.js';
import { manualIntent, startPipeline, type Pipeline } from '../support/pipeline.js';
import { ACT_RULES } from '../support/trip-settings.js';

const RULES = ACT_RULES;

let p: Pipeline;
let windows: WindowsHandle | undefined;

beforeEach(async () => {
  p = await startPipeline({ workers: 0, sim: { accounts: 30 } });
});
afterEach(async () => {
  await windows?.close();
  windows = undefined;
  await p.stop();
});

const status = (id: string) => p.sim.account(id)?.status;
const calls = (id: string) =>
  p.sim.stats().executions.byAccount[id] ?? { activate: 0, deactivate: 0 };

async function drained(timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => ((await p.redis.zcard(p.keys.pending)) === 0 ? true : undefined),
    timeoutMs,
    'every intent to end',
  );
}

function breaker(now?: () => Date, cooldownS = 0): Breaker {
  return createBreaker({
    redis: p.redis,
    keys: p.keys,
    producer: p.producer,
    rules: () => RULES,
    dedupeTtlS: 3600,
    eventsMaxLen: 10_000,
    cooldownS,
    ...(now ? { now } : {}),
  });
}

/** A one-off window far in the future: its steps are called here, not by a schedule. */
async function oneOff(ids: string[]): Promise<{ id: string; startsMs: number; occ: string }> {
  windows ??= openWindows(p.config);
  const startsMs = Date.now() + 3_600_000 + Math.floor(Math.random() * 60_000) * 1000;
  const w = await windows.create({
    accounts: ids,
    start: new Date(startsMs).toISOString(),
    end: new Date(startsMs + 3_600_000).toISOString(),
  });
  return { id: w.id, startsMs, occ: occurrenceId(startsMs) };
}

describe('one decision per account', () => {
  it('back-to-back windows: the second switches off what the first is still switching back on', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => simAccountId(i + 1));
    await p.addWorker();
    const w1 = await oneOff(ids);
    const w2 = await oneOff(ids);
    const admin = windows as WindowsHandle;
    // The steps take "now" from the clock; the windows are in the future, so no step is late.
    const s1 = await admin.start(w1.id, w1.startsMs);
    expect(s1.result === 'started' && s1.event.switched_off).toEqual([...ids].sort());
    await drained();
    expect(ids.map(status)).toEqual(ids.map(() => 'inactive'));

    // W1 ends while no worker runs: its activations wait in the queue when W2 reads.
    await Promise.all(p.workers.splice(0).map((w) => w.close(2_000)));
    const e1 = await admin.end(w1.id, w1.occ);
    expect(e1.result === 'ended' && e1.event.reactivated).toEqual([...ids].sort());
    const s2 = await admin.start(w2.id, w2.startsMs);
    // The API says off, but our activations are pending: W2 must switch them off after them.
    expect(s2.result === 'started' && s2.event.switched_off).toEqual([...ids].sort());
    expect(s2.result === 'started' && s2.event.already_off).toEqual([]);
    await p.addWorker();
    await drained();
    expect(ids.map(status)).toEqual(ids.map(() => 'inactive'));
    for (const id of ids) {
      const h = await readHolds(p.redis, p.keys, id);
      expect(h.holds.map((x) => x.id)).toEqual([`window:${w2.id}:${w2.occ}`]);
      expect(h.before).toBe('active');
    }
    // And W2's end brings them back: they were on without the project's holds.
    const e2 = await admin.end(w2.id, w2.occ);
    expect(e2.result === 'ended' && e2.event.reactivated).toEqual([...ids].sort());
    await drained();
    expect(ids.map(status)).toEqual(ids.map(() => 'active'));
  });

  it("an operator's activate racing a trip: the trip's hold sees the activation and wins after it", async () => {
    const A = simAccountId(3);
    await p.addWorker();
    const off = await runManual(p, { action: 'deactivate', accountIds: [A], key: 'op-off' });
    expect(off.outcomes[0]?.held).toBe(false);
    await drained();
    expect(status(A)).toBe('inactive');
    // The activate's release lands, then a trip, then the activate's enqueue: the interleaving
    // of two processes, step by step.
    const [released] = await releaseHolds(p.redis, p.keys, [A], 'manual', () => ({
      key: 'op-on',
      source: 'manual',
      mode: 'force',
    }));
    expect(released?.activation).toMatchObject({ key: 'op-on', state: 'new' });
    const b = breaker();
    const trip = await b.trip(A, 'spike');
    expect(trip.result).toBe('tripped');
    await p.producer.enqueue(manualIntent(A, 'op-on', 'activate'));
    await drained();
    expect(status(A)).toBe('inactive');
    expect(await readHolds(p.redis, p.keys, A)).toMatchObject({ before: 'active' });
    // The reset lets it go: it was being switched on when the trip came.
    const reset = await b.reset(A);
    expect(reset.result === 'reset' && reset.activateKey).toBeTruthy();
    await drained();
    expect(status(A)).toBe('active');
  });
});

describe('a source that takes a hold leaves the account going off', () => {
  it('a pending deactivation of another source does not count as off: a cancelled run leaves the window its own', async () => {
    const A = simAccountId(9);
    // A bulk run's deactivation waits in the queue (no worker), holding A.
    const run = await runBulkPass(
      { producer: p.producer, redis: p.redis, keys: p.keys, outcomes: p.config },
      { source: { kind: 'ids', ids: [A] }, batchId: 'pending-run', includeShared: true },
    );
    expect(run.enqueued).toBe(1);
    const w = await oneOff([A]);
    const s = await (windows as WindowsHandle).start(w.id, w.startsMs);
    expect(s.result === 'started' && s.event.switched_off).toEqual([A]);
    // The run is cancelled: its deactivation never runs, its hold goes; the window's stays.
    expect((await cancelBatch(p.config, 'pending-run')).cancelled).toBe(1);
    await p.addWorker();
    await drained();
    expect(status(A)).toBe('inactive');
    expect((await readHolds(p.redis, p.keys, A)).holds.map((h) => h.id)).toEqual([
      `window:${w.id}:${w.occ}`,
    ]);
  });
});

describe('an activate bulk run', () => {
  it('a hold taken between its held check and its claim: nothing bound, the account ends superseded by the hold, the batch finishes', async () => {
    const A = simAccountId(12);
    // The real producer, with a breaker trip landing right before the run's claim.
    const racing: Producer = {
      enqueue: (intent) => p.producer.enqueue(intent),
      async enqueueMany(intents, options) {
        await takeHold(p.redis, p.keys, A, { id: 'breaker', source: 'breaker', ref: 't' });
        return p.producer.enqueueMany(intents, options);
      },
    };
    const run = await runBulkPass(
      { producer: racing, redis: p.redis, keys: p.keys, outcomes: p.config },
      {
        source: { kind: 'ids', ids: [A] },
        action: 'activate',
        batchId: 'act-race',
        includeShared: true,
      },
    );
    expect(run).toMatchObject({ enqueued: 0, skipped: 1, held: 1 });
    expect(await readBatch(p.redis, p.keys, 'act-race')).toMatchObject({
      queued: 0,
      superseded: 1,
      finished_at: expect.any(String) as string,
    });
    const [b] = await readBindings(p.redis, p.keys, ['bulk:act-race:' + A]);
    expect(b).toMatchObject({ state: 'superseded', supersededBy: 'hold' });
    expect(calls(A).activate).toBe(0);
  });
});

describe('checked at the call', () => {
  it('an activation asked before a hold does not run once the hold stands', async () => {
    const A = simAccountId(4);
    await p.producer.enqueue(manualIntent(A, 'early-on', 'activate'));
    // A hold is taken (its deactivation not enqueued yet, as a trip between its two steps).
    await takeHold(p.redis, p.keys, A, { id: 'breaker', source: 'breaker', ref: 't1' });
    await p.addWorker();
    await drained();
    expect(calls(A).activate).toBe(0);
    const [b] = await readBindings(p.redis, p.keys, ['early-on']);
    expect(b).toMatchObject({ state: 'superseded', supersededBy: 'hold:breaker' });
  });

  it('no activation is bound while a hold stands', async () => {
    const A = simAccountId(5);
    await takeHold(p.redis, p.keys, A, { id: 'manual', source: 'manual', ref: 'k' });
    const r = await p.producer.enqueue(manualIntent(A, 'late-on', 'activate'));
    expect(r).toMatchObject({ status: 'held', state: 'held' });
    expect(await readBindings(p.redis, p.keys, ['late-on'])).toEqual([undefined]);
  });
});

describe('the base is never assumed on', () => {
  it('an account our own deactivation left off stays off after a breaker reset', async () => {
    const A = simAccountId(6);
    await p.addWorker();
    // Off by an intent of ours that holds nothing (a library call).
    await p.producer.enqueue(manualIntent(A, 'plain-off'));
    await drained();
    expect(status(A)).toBe('inactive');
    const b = breaker();
    expect((await b.trip(A)).result).toBe('tripped');
    await drained();
    const r = await b.reset(A);
    expect(r).toMatchObject({ result: 'reset', activateKey: null });
    await drained();
    expect(status(A)).toBe('inactive');
    expect(calls(A).activate).toBe(0);
    const events = await readRecentEvents(p.redis, p.keys, { type: 'breaker.reset' });
    expect((events[0] as BreakerResetEvent | undefined)?.base).toBe('inactive');
  });

  it('an account switched off outside (seen by the listing) stays off after the half-open step', async () => {
    const A = simAccountId(7);
    p.sim.setAccountStatus(A, 'inactive');
    const item = p.sim.account(A);
    if (!item) throw new Error('no such sim account');
    await observeAccounts(p.redis, p.keys, [item]);
    await p.addWorker();
    let t = Date.now();
    const b = breaker(() => new Date(t), 60);
    expect((await b.trip(A)).result).toBe('tripped');
    await drained();
    t += 61_000;
    expect(await b.tick()).toEqual({ halfOpen: [A], closed: [] });
    await drained();
    expect(status(A)).toBe('inactive');
    expect(calls(A).activate).toBe(0);
  });

  it('an account nothing is known of is never switched on by a reset', async () => {
    const A = simAccountId(8);
    await p.addWorker();
    const b = breaker();
    const trip = await countAndTrip(
      p.redis,
      p.keys,
      { accountId: A, force: true },
      { rules: RULES, dedupeTtlS: 3600, eventsMaxLen: 10_000 },
    );
    expect(trip.result).toBe('tripped');
    expect((await readHolds(p.redis, p.keys, A)).before).toBe('unknown');
    const r = await b.reset(A);
    expect(r).toMatchObject({ result: 'reset', activateKey: null });
    expect(r.result === 'reset' && r.hold).toMatchObject({ last: true, before: 'unknown' });
  });
});

describe('windows that do their job', () => {
  it('with 10 % 500s and one unreadable account, a start still holds and switches off every target', async () => {
    const ids = Array.from({ length: 18 }, (_, i) => simAccountId(i + 10));
    const unreadable = ids[4] as string;
    const w = await oneOff(ids);
    p.sim.setReadable(unreadable, false);
    p.sim.setFaults({ readError500Rate: 0.1, error500Rate: 0.1 });
    const started = await (windows as WindowsHandle).start(w.id, w.startsMs);
    expect(started.result).toBe('started');
    const event = started.result === 'started' ? started.event : undefined;
    expect(event?.switched_off).toEqual([...ids].sort());
    expect(event?.not_switched_off).toEqual([]);
    // Every target in exactly one list.
    const listed = (e: WindowStartedEvent) => [
      ...e.switched_off,
      ...e.not_switched_off,
      ...e.already_off,
      ...e.missing,
    ];
    expect(event && listed(event).sort()).toEqual([...ids].sort());
    await p.addWorker();
    await drained(60_000);
    p.sim.setFaults({ readError500Rate: 0, error500Rate: 0 });
    expect(ids.filter((id) => status(id) !== 'inactive')).toEqual([]);
    for (const id of ids) {
      expect((await readHolds(p.redis, p.keys, id)).holds).toHaveLength(1);
    }
  });

  it('a start whose reads outlast its occurrence says so with a window.failed event', async () => {
    const ids = [simAccountId(2), simAccountId(3), simAccountId(4)];
    // One read a second (the shared rate budget): reading three takes two seconds.
    const slow = openWindows({ ...p.config, rateLimitPerMinute: 60 });
    try {
      const startsMs = Date.now() + 300;
      const w = await slow.create({
        accounts: ids,
        start: new Date(startsMs).toISOString(),
        end: new Date(startsMs + 1_000).toISOString(),
      });
      const s = await slow.start(w.id, startsMs);
      expect(s.result).toBe('started');
      expect(s.result === 'started' && s.event.not_switched_off).toEqual(ids);
      const failed = await readRecentEvents(p.redis, p.keys, { type: 'window.failed' });
      expect(failed).toMatchObject([
        { type: 'window.failed', window_id: w.id, step: 'start', account_ids: ids },
      ]);
      // The status page's overview shows it.
      const o = await overviewReader({ config: p.config, redis: p.redis, breakerRoutes: false })();
      expect(o.window_failures).toMatchObject([{ window_id: w.id, step: 'start' }]);
    } finally {
      await slow.close();
    }
  });
});
