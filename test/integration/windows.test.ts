/**
 * Maintenance windows against real Redis, the simulator and real workers, with real short
 * windows of seconds (no fake timers): a one-off round trip, an account off before the window
 * stays off, a breaker trip during the window keeps its account off, overlapping windows,
 * a recurring window in a time zone across two occurrences, cancel before and during, a
 * worker restarted across the start, a start missed until after the end (skipped), and two
 * window services racing for every step.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { StreamEvent, WindowEndedEvent, WindowStartedEvent } from '../../src/model.js';
import { openBreaker } from '../../src/ops/breaker.js';
import { startWindowService, type WindowService } from '../../src/ops/window-service.js';
import { openWindows, type WindowsHandle } from '../../src/ops/windows.js';
import { occurrenceId } from '../../src/producers/windows/spec.js';
import { simAccountId } from '../../src/sim/index.js';
import { readRecentEvents } from '../../src/store/events.js';
import { seenState } from '../../src/store/hold-record.js';
import { readHolds } from '../../src/store/holds.js';
import { holdForOccurrence } from '../../src/store/window-holds.js';
import { beginOccurrence } from '../../src/store/window-occurrence.js';
import { waitFor } from '../support/context.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { waitUntilDrained, waitUntilNoneDue } from '../support/quiet.js';
import { berlinWeekdayHour, WEEKLY_HOUR, weeklyCronAwayFromNow } from '../support/weekly-cron.js';

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
const A = simAccountId(1);
const B = simAccountId(2);
const C = simAccountId(3);

let p: Pipeline;
let admin: WindowsHandle;
const services: WindowService[] = [];

beforeEach(async () => {
  p = await startPipeline({ workers: 1 });
  admin = openWindows(p.config);
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  await admin.close();
  await p.stop();
});

async function service(): Promise<WindowService> {
  const s = await startWindowService(p.config, logger);
  services.push(s);
  return s;
}

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

async function windowEvents(): Promise<StreamEvent[]> {
  return (await readRecentEvents(p.redis, p.keys, { limit: 10_000 })).filter((e) =>
    e.type.startsWith('window.'),
  );
}

async function waitForEvent<T extends StreamEvent>(
  type: T['type'],
  count = 1,
  timeoutMs = 15_000,
): Promise<T[]> {
  return waitFor(
    async () => {
      const found = (await windowEvents()).filter((e) => e.type === type) as T[];
      return found.length >= count ? found : undefined;
    },
    timeoutMs,
    `${count} ${type} event(s)`,
  );
}

const simStatus = (id: string) => p.sim.account(id)?.status;
const calls = (id: string) =>
  p.sim.stats().executions.byAccount[id] ?? { activate: 0, deactivate: 0 };

/** Switch an account off at the simulator directly, as someone else would. */
async function offAtTheApi(id: string): Promise<void> {
  const res = await fetch(`${p.sim.url}/providers/${id}/deactivate`, {
    method: 'POST',
    headers: { authorization: 'Bearer smx_root_sim_key' },
  });
  expect(res.status).toBe(200);
}

async function waitForStatus(id: string, status: string): Promise<void> {
  await waitFor(() => (simStatus(id) === status ? true : undefined), 15_000, `${id} ${status}`);
}

describe('maintenance windows', () => {
  it('one-off: off at the start, back at the end, each account called once each way', async () => {
    await service();
    const w = await admin.create({
      accounts: [A, B],
      start: inMs(800),
      end: inMs(3_000),
      reason: 'smtp migration',
    });
    expect(w.next_starts).toHaveLength(1);
    const [started] = await waitForEvent<WindowStartedEvent>('window.started');
    expect(started?.switched_off).toEqual([A, B]);
    expect(started?.already_off).toEqual([]);
    await waitForStatus(A, 'inactive');
    await waitForStatus(B, 'inactive');
    const holds = await readHolds(p.redis, p.keys, A);
    expect(holds.holds.map((h) => h.id)).toEqual([`window:${w.id}:${started?.occurrence}`]);
    expect(holds.before).toBe('active');

    const [ended] = await waitForEvent<WindowEndedEvent>('window.ended');
    expect(ended?.reactivated).toEqual([A, B]);
    expect(ended?.cancelled).toBe(false);
    await waitForStatus(A, 'active');
    await waitForStatus(B, 'active');
    expect(calls(A)).toEqual({ activate: 1, deactivate: 1 });
    expect((await readHolds(p.redis, p.keys, A)).holds).toEqual([]);
    const shown = await admin.show(w.id);
    expect(shown.occurrences.map((o) => o.state)).toEqual(['ended']);
    expect(shown.next_starts).toEqual([]);
    expect(shown.state).toBe('over'); // it has run its course: nothing more will start
    expect((await admin.list()).find((l) => l.id === w.id)?.state).toBe('over');
  });

  it('an account off before the window stays off after it; the others come back', async () => {
    await service();
    await offAtTheApi(A);
    await admin.create({ accounts: [A, B], start: inMs(500), end: inMs(2_500) });
    const [started] = await waitForEvent<WindowStartedEvent>('window.started');
    expect(started?.switched_off).toEqual([B]);
    expect(started?.already_off).toEqual([A]);
    const [ended] = await waitForEvent<WindowEndedEvent>('window.ended');
    expect(ended?.reactivated).toEqual([B]);
    expect(ended?.stayed_off).toEqual([A]);
    await waitForStatus(B, 'active');
    expect(simStatus(A)).toBe('inactive');
    expect(calls(A)).toEqual({ activate: 0, deactivate: 1 }); // ours, before the window
  });

  it('a breaker trip during the window keeps its account off at the end', async () => {
    await service();
    await admin.create({ accounts: [A, B], start: inMs(500), end: inMs(3_000) });
    await waitForEvent('window.started');
    const breaker = openBreaker(p.config);
    try {
      expect((await breaker.trip(A, 'bounce spike')).result).toBe('tripped');
      const [ended] = await waitForEvent<WindowEndedEvent>('window.ended');
      expect(ended?.reactivated).toEqual([B]);
      expect(ended?.still_held).toEqual([{ account_id: A, held_by: ['breaker'] }]);
      await waitForStatus(B, 'active');
      // The end enqueued its activations in one step: any for A would have run by now.
      await waitUntilDrained(p.producer.queue);
      expect(simStatus(A)).toBe('inactive');
      expect(calls(A).activate).toBe(0);
      // The breaker's reset is the last release, and A was on before the window's hold.
      const r = await breaker.reset(A);
      expect(r.result === 'reset' && r.activateKey).toBeTruthy();
      await waitForStatus(A, 'active');
    } finally {
      await breaker.close();
    }
  });

  it('overlapping windows: the account comes back only after the second ends', async () => {
    await service();
    const w1 = await admin.create({ accounts: [A], start: inMs(500), end: inMs(2_500) });
    const w2 = await admin.create({ accounts: [A, C], start: inMs(1_200), end: inMs(4_500) });
    const ended = await waitForEvent<WindowEndedEvent>('window.ended');
    expect(ended[0]?.window_id).toBe(w1.id);
    expect(ended[0]?.reactivated).toEqual([]);
    expect(ended[0]?.still_held[0]?.account_id).toBe(A);
    expect(ended[0]?.still_held[0]?.held_by[0]).toMatch(new RegExp(`^window:${w2.id}:`));
    expect(simStatus(A)).toBe('inactive');
    const both = await waitForEvent<WindowEndedEvent>('window.ended', 2);
    expect(both[1]?.window_id).toBe(w2.id);
    expect(both[1]?.reactivated).toEqual([A, C]);
    await waitForStatus(A, 'active');
    expect(calls(A)).toEqual({ activate: 1, deactivate: 1 });
  });

  it('recurring in a time zone: two occurrences, each off then on', async () => {
    await service();
    const w = await admin.create({
      accounts: [A],
      cron: '*/3 * * * * *',
      duration: '1s',
      tz: 'Asia/Kolkata',
    });
    expect(w.schedule).toMatchObject({ kind: 'recurring', tz: 'Asia/Kolkata' });
    expect(w.next_starts).toHaveLength(3);
    const ended = await waitForEvent<WindowEndedEvent>('window.ended', 2, 20_000);
    expect(new Set(ended.map((e) => e.occurrence)).size).toBe(2);
    for (const e of ended) {
      expect(e.reactivated).toEqual([A]);
      expect(new Date(e.starts_at).getUTCSeconds() % 3).toBe(0);
      expect(Date.parse(e.ends_at) - Date.parse(e.starts_at)).toBe(1_000);
    }
    // A recurring window that has run keeps its next occurrences.
    const between = await admin.show(w.id);
    expect(between.state).toBe('scheduled');
    expect(between.next_starts).toHaveLength(3);
    await admin.cancel(w.id);
    await waitForStatus(A, 'active');
    expect(await admin.queue.getJobScheduler(`window-${w.id}`)).toBeUndefined();
    // The zone reaches BullMQ's scheduler: its next run is 04:00 in Berlin on the cron's day
    // (03:00Z in winter, 02:00Z in summer). The day is days away, so nothing runs meanwhile.
    const weekly = weeklyCronAwayFromNow();
    const berlin = await admin.create({
      accounts: [C],
      cron: weekly.cron,
      duration: '2h',
      tz: 'Europe/Berlin',
    });
    const scheduler = await admin.queue.getJobScheduler(`window-${berlin.id}`);
    expect(scheduler?.tz).toBe('Europe/Berlin');
    expect(scheduler?.next).toBe(Date.parse(berlin.next_starts[0] ?? ''));
    expect(berlinWeekdayHour(new Date(scheduler?.next ?? 0))).toEqual({
      weekday: weekly.weekday,
      hour: WEEKLY_HOUR,
    });
    expect(calls(A).deactivate).toBeGreaterThanOrEqual(2);
    expect(calls(A).activate).toBe(calls(A).deactivate);
  });

  it('a lost scheduler upserted by two workers at once still starts each occurrence once', async () => {
    const w = await admin.create({ accounts: [A], cron: '*/2 * * * * *', duration: '1s' });
    const [one, two] = [await service(), await service()];
    await admin.queue.removeJobScheduler(`window-${w.id}`); // as if Redis lost it
    // Both find it missing and upsert it at the same time (BullMQ's known race).
    await Promise.all([one.windows.reconcile(), two.windows.reconcile()]);
    expect(await admin.queue.getJobScheduler(`window-${w.id}`)).toBeDefined();
    const ended = await waitForEvent<WindowEndedEvent>('window.ended', 2, 20_000);
    await admin.cancel(w.id);
    const started = (await windowEvents()).filter((e) => e.type === 'window.started');
    const occurrences = started.map((e) => e.occurrence);
    expect(new Set(occurrences).size).toBe(occurrences.length);
    expect(ended.every((e) => e.reactivated.length === 1)).toBe(true);
  });

  it('cancel before the start: nothing happens; cancel during: it ends now', async () => {
    await service();
    const futureStartMs = Date.now() + 1_500;
    const future = await admin.create({
      accounts: [A],
      start: new Date(futureStartMs).toISOString(),
      end: inMs(3_000),
    });
    expect(await admin.cancel(future.id)).toEqual({
      window_id: future.id,
      was: 'future',
      ended: [],
    });
    const running = await admin.create({ accounts: [B], start: inMs(300), end: inMs(60_000) });
    await waitForEvent('window.started');
    await waitForStatus(B, 'inactive');
    const r = await admin.cancel(running.id);
    expect(r.was).toBe('running');
    const [ended] = await waitForEvent<WindowEndedEvent>('window.ended');
    expect(ended?.cancelled).toBe(true);
    await waitForStatus(B, 'active');
    // Past the cancelled window's start: a marker window starting after it (on C) has started,
    // every window step due is done, and so is every action: a start of A's would show.
    const marker = await admin.create({
      accounts: [C],
      start: new Date(futureStartMs + 200).toISOString(),
      end: inMs(60_000),
    });
    await waitFor(
      async () =>
        (await windowEvents()).some(
          (e) => e.type === 'window.started' && e.window_id === marker.id,
        ) || undefined,
      15_000,
      'the marker window to start',
    );
    await waitUntilNoneDue(admin.queue, 15_000, 'the window steps');
    await waitUntilDrained(p.producer.queue);
    expect(calls(A)).toEqual({ activate: 0, deactivate: 0 });
    expect(
      (await windowEvents()).filter((e) => 'window_id' in e && e.window_id === future.id),
    ).toEqual([]);
    expect((await admin.show(future.id)).state).toBe('cancelled');
  });

  it('a start missed while nothing ran runs late; one that ended meanwhile is skipped', async () => {
    const late = await admin.create({ accounts: [A], start: inMs(300), end: inMs(8_000) });
    const gone = await admin.create({ accounts: [B], start: inMs(300), end: inMs(1_000) });
    await new Promise((res) => setTimeout(res, 1_500)); // no service: both starts are missed
    await service();
    const [started] = await waitForEvent<WindowStartedEvent>('window.started');
    expect(started?.window_id).toBe(late.id);
    expect(started?.late_ms).toBeGreaterThanOrEqual(1_000);
    const [skipped] = await waitForEvent('window.skipped');
    expect(skipped).toMatchObject({ window_id: gone.id, reason: 'ended_before_start' });
    await waitForStatus(A, 'inactive');
    expect(calls(B)).toEqual({ activate: 0, deactivate: 0 });
  });

  it('a worker restarted across the start still starts it once', async () => {
    const first = await service();
    await admin.create({ accounts: [A], start: inMs(1_500), end: inMs(4_000) });
    await first.close();
    services.splice(services.indexOf(first), 1);
    await new Promise((res) => setTimeout(res, 2_000));
    await service();
    await waitForEvent('window.ended');
    await waitForStatus(A, 'active');
    expect((await windowEvents()).map((e) => e.type)).toEqual(['window.started', 'window.ended']);
    expect(calls(A)).toEqual({ activate: 1, deactivate: 1 });
  });

  it('a start run again after a crash half-way decides from its first read', async () => {
    const startsMs = Date.now() + 60_000;
    const w = await admin.create({
      accounts: [A, B],
      start: new Date(startsMs).toISOString(),
      end: inMs(120_000),
    });
    // A first run read A and B on, held them, and died before enqueueing; then A went off.
    const ref = { windowId: w.id, occurrence: occurrenceId(startsMs) };
    await beginOccurrence(p.redis, p.keys, { ...ref, startsMs, endsMs: startsMs + 60_000 });
    const hold = { id: `window:${w.id}:${ref.occurrence}`, source: 'window' as const };
    const first = [
      { accountId: A, read: 'seen' as const, seen: seenState('active') },
      { accountId: B, read: 'seen' as const, seen: seenState('active') },
    ];
    expect(await holdForOccurrence(p.redis, p.keys, ref, first, hold)).toEqual([
      'switch_off',
      'switch_off',
    ]);
    await offAtTheApi(A);
    const r = await admin.start(w.id, startsMs);
    expect(r.result).toBe('started');
    expect(r.result === 'started' && r.event.switched_off).toEqual([A, B]);
    await waitForStatus(B, 'inactive');
    // Its end brings back both: they were on before the window's hold.
    const ended = await admin.end(w.id, ref.occurrence);
    expect(ended.result === 'ended' && ended.event.reactivated).toEqual([A, B]);
    await waitForStatus(A, 'active');
  });

  it('a start that kept failing until its end switches nothing off and lets go at once', async () => {
    const startsMs = Date.now() + 200;
    const w = await admin.create({
      accounts: [A, B],
      start: new Date(startsMs).toISOString(),
      end: inMs(900),
    });
    // Its first run recorded A and held it, then the API went away until after the end.
    const ref = { windowId: w.id, occurrence: occurrenceId(startsMs) };
    await beginOccurrence(p.redis, p.keys, { ...ref, startsMs, endsMs: startsMs + 700 });
    const hold = { id: `window:${w.id}:${ref.occurrence}`, source: 'window' as const };
    await holdForOccurrence(
      p.redis,
      p.keys,
      ref,
      [{ accountId: A, read: 'seen', seen: seenState('active') }],
      hold,
    );
    await new Promise((res) => setTimeout(res, 1_000));
    const before = p.sim.stats().requests;
    const started = await admin.start(w.id, startsMs);
    expect(started.result === 'started' && started.event.switched_off).toEqual([]);
    expect(started.result === 'started' && started.event.not_switched_off).toEqual([A]);
    expect(p.sim.stats().requests).toBe(before); // nothing read
    const ended = await admin.end(w.id, ref.occurrence);
    // The holds model asks A back on (its last hold; on before): harmless, it is on.
    expect(ended.result === 'ended' && ended.event.reactivated).toEqual([A]);
    expect((await readHolds(p.redis, p.keys, A)).holds).toEqual([]);
    expect(calls(B)).toEqual({ activate: 0, deactivate: 0 });
    expect(calls(A).deactivate).toBe(0);
  });

  it('two services and steps run twice: one start, one end, one call each way', async () => {
    const [one, two] = [await service(), await service()];
    const w = await admin.create({ accounts: [A, B], start: inMs(600), end: inMs(2_500) });
    const [started] = await waitForEvent<WindowStartedEvent>('window.started');
    // A duplicated start (BullMQ scheduler races) and a re-run of the end change nothing.
    const startsMs = Date.parse(started?.starts_at ?? '');
    expect((await one.windows.start(w.id, startsMs)).result).toBe('already');
    await waitForEvent('window.ended');
    const again = await Promise.all([
      one.windows.end(w.id, started?.occurrence ?? ''),
      two.windows.end(w.id, started?.occurrence ?? ''),
    ]);
    expect(again.map((r) => r.result)).toEqual(['already', 'already']);
    await waitForStatus(A, 'active');
    expect((await windowEvents()).map((e) => e.type)).toEqual(['window.started', 'window.ended']);
    expect(calls(A)).toEqual({ activate: 1, deactivate: 1 });
    expect(calls(B)).toEqual({ activate: 1, deactivate: 1 });
  });
});
