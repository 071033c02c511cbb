/**
 * `window delete` against real Redis, the simulator, a real worker and the window service: a
 * one-off window that has run shows `over`, and deleting it leaves no key of it (record,
 * occurrences, index entry, windows-queue jobs) while the event stream records who deleted it;
 * a window whose occurrence is running is refused with nothing changed (its holds, its account,
 * its keys); cancelled, it can go. A recurring window between occurrences is deleted with its
 * job scheduler.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateConflictError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import type { StreamEvent } from '../../src/model.js';
import { startWindowService, type WindowService } from '../../src/ops/window-service.js';
import { openWindows, type WindowsHandle } from '../../src/ops/windows.js';
import { simAccountId } from '../../src/sim/index.js';
import { readRecentEvents } from '../../src/store/events.js';
import { readHolds } from '../../src/store/holds.js';
import { deleteWindowRecords } from '../../src/store/window-delete.js';
import { waitFor } from '../support/context.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { weeklyCronAwayFromNow } from '../support/weekly-cron.js';

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
const A = simAccountId(1);
const B = simAccountId(2);

let p: Pipeline;
let admin: WindowsHandle;
let service: WindowService;

beforeEach(async () => {
  p = await startPipeline({ workers: 1 });
  admin = openWindows(p.config);
  service = await startWindowService(p.config, logger);
});
afterEach(async () => {
  await service.close();
  await admin.close();
  await p.stop();
});

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

async function events(): Promise<StreamEvent[]> {
  return readRecentEvents(p.redis, p.keys, { limit: 10_000 });
}

async function waitForWindowEvent(windowId: string, type: StreamEvent['type']): Promise<void> {
  await waitFor(
    async () =>
      (await events()).some((e) => e.type === type && 'window_id' in e && e.window_id === windowId)
        ? true
        : undefined,
    15_000,
    `${type} of ${windowId}`,
  );
}

/** Every key of the test prefix, with what it holds that names `windowId` (streams aside). */
async function traces(windowId: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await p.redis.scan(cursor, 'MATCH', `${p.keys.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      // An intent's binding (`idem:<key>`) and its job in the actions queue keep the intent's
      // idempotency key, which names the window's occurrence: they are the actions' records
      // (the accounts' history), not the window's, and go by their own retention.
      if (key.includes(':idem:') || key.startsWith(`${p.keys.prefix}:actions:`)) continue;
      if (key.includes(windowId)) found.push(key);
      const type = await p.redis.type(key);
      const members =
        type === 'zset'
          ? await p.redis.zrange(key, 0, -1)
          : type === 'set'
            ? await p.redis.smembers(key)
            : type === 'list'
              ? await p.redis.lrange(key, 0, -1)
              : [];
      if (members.some((m) => m.includes(windowId))) found.push(`${key} (member)`);
    }
  } while (cursor !== '0');
  return found.sort();
}

/** A snapshot of a window's keys and their contents. */
async function dump(windowId: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of await traces(windowId)) {
    const k = key.replace(/ \(member\)$/, '');
    const type = await p.redis.type(k);
    out[key] =
      type === 'hash'
        ? await p.redis.hgetall(k)
        : type === 'zset'
          ? await p.redis.zrange(k, 0, -1, 'WITHSCORES')
          : type;
  }
  return out;
}

describe('window delete', () => {
  it('an over window shows over and is deleted without a trace; a running one is refused, nothing changed', async () => {
    const over = await admin.create({ accounts: [A], start: inMs(300), end: inMs(1_500) });
    const running = await admin.create({ accounts: [B], start: inMs(300), end: inMs(60_000) });
    await waitForWindowEvent(over.id, 'window.ended');
    await waitForWindowEvent(running.id, 'window.started');
    await waitFor(
      () => (p.sim.account(B)?.status === 'inactive' ? true : undefined),
      15_000,
      'B off',
    );
    expect((await admin.show(over.id)).state).toBe('over');
    expect((await admin.show(running.id)).state).toBe('scheduled');
    // The check below can see the window's keys: its record, occurrence, jobs, index entry.
    const seen = (await traces(over.id)).join('\n');
    expect(seen).toContain(`:window:${over.id}:o:`);
    expect(seen).toContain(`:windows:end-${over.id}-`);
    expect(seen).toContain(`:windows:start-${over.id}-`);
    expect(seen).toContain(`${p.keys.windowIndex} (member)`);

    // Running: refused, naming the command that ends it; nothing changed.
    const before = await dump(running.id);
    const holdsBefore = await readHolds(p.redis, p.keys, B);
    const refused = admin.delete(running.id, 'ops-alice');
    await expect(refused).rejects.toBeInstanceOf(StateConflictError);
    await expect(refused).rejects.toThrow(
      new RegExp(`window "${running.id}": active .*\`window cancel ${running.id}\``),
    );
    // The script itself refuses too (a start that began after the checks before it).
    expect(await deleteWindowRecords(p.redis, p.keys, running.id, '{}', 1000)).toMatchObject({
      result: 'running',
    });
    expect(await dump(running.id)).toEqual(before);
    expect(await readHolds(p.redis, p.keys, B)).toEqual(holdsBefore);
    expect(p.sim.account(B)?.status).toBe('inactive');

    // Over: deleted, every key of it gone; holds and accounts untouched.
    const holdsA = await readHolds(p.redis, p.keys, A);
    const calls = structuredClone(p.sim.stats().executions.byAccount);
    expect(await admin.delete(over.id, 'ops-alice')).toEqual({ window_id: over.id, was: 'over' });
    expect(await traces(over.id)).toEqual([]);
    expect((await admin.list()).map((w) => w.id)).toEqual([running.id]);
    await expect(admin.show(over.id)).rejects.toThrow(/no such window/);
    await expect(admin.delete(over.id, null)).rejects.toThrow(/no such window/);
    expect(await readHolds(p.redis, p.keys, A)).toEqual(holdsA);
    expect(p.sim.stats().executions.byAccount).toEqual(calls);
    const deleted = (await events()).filter((e) => e.type === 'window.deleted');
    expect(deleted).toMatchObject([
      { type: 'window.deleted', window_id: over.id, was: 'over', actor: 'ops-alice' },
    ]);

    // Cancelled (its occurrence ended, B back on): now it can go.
    await admin.cancel(running.id);
    await waitFor(() => (p.sim.account(B)?.status === 'active' ? true : undefined), 15_000, 'B on');
    expect(await admin.delete(running.id, null)).toEqual({
      window_id: running.id,
      was: 'cancelled',
    });
    expect(await traces(running.id)).toEqual([]);
  });

  it('a recurring window between occurrences goes with its job scheduler', async () => {
    const w = await admin.create({
      accounts: [A],
      cron: weeklyCronAwayFromNow().cron,
      duration: '2h',
      tz: 'Europe/Berlin',
    });
    expect(await admin.queue.getJobScheduler(`window-${w.id}`)).toBeDefined();
    expect(await admin.delete(w.id, 'x')).toEqual({ window_id: w.id, was: 'scheduled' });
    expect(await admin.queue.getJobScheduler(`window-${w.id}`)).toBeUndefined();
    expect(await traces(w.id)).toEqual([]);
  });
});
