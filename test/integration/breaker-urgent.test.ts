/**
 * Issue 22 part 4, a trip never waits behind a backlog: the breaker's intents go to the urgent
 * queue, which no BullMQ limiter holds back (queue.ts, worker.ts). Real Redis, the simulator
 * (over HTTP, every action call seen as it arrives) and real workers, each test on its own
 * `{lat-...}` prefix. Shown here: a trip's call reaches the API while the actions queue's
 * limiter is full, long before its next slot opens; the key's window still holds (per window,
 * never more calls than its limit); a pause of the actions queue holds urgent calls too; per
 * account, an urgent deactivate and a queued activate end as the holds decide; a worker's
 * repair finds the urgent queue's jobs.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBreaker, type Breaker } from '../../src/producers/breaker/breaker.js';
import { runManual } from '../../src/producers/manual.js';
import { createUrgentQueue } from '../../src/queue/queue.js';
import { simAccountId, type Simulator } from '../../src/sim/index.js';
import { readBindings } from '../../src/store/binding.js';
import { readHolds, releaseHolds } from '../../src/store/holds.js';
import { pauseQueue } from '../../src/store/pause-queue.js';
import { limiterFor } from '../../src/worker/backoff.js';
import { repairStuckBindings } from '../../src/worker/repair.js';
import { waitFor } from '../support/context.js';
import { manualIntent, startPipeline, type Pipeline } from '../support/pipeline.js';
import { ACT_RULES } from '../support/trip-settings.js';

const RULES = ACT_RULES;

/** 6 a minute: one call of the actions queue per 10 s slot (limiterFor). */
const SLOW = 6;
const SLOT_MS = limiterFor(SLOW).duration;

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

async function pipeline(
  config: Partial<Config>,
  sim: { accounts?: number; rateLimit?: number; rateWindowMs?: number; rateAligned?: boolean } = {},
): Promise<Pipeline> {
  p = await startPipeline({
    workers: 0,
    sim: { accounts: 40, ...sim },
    config: { prefix: `{lat-${randomUUID().slice(0, 8)}}`, ...config },
  });
  return p;
}

interface Call {
  account: string;
  action: string;
  at: number;
  status?: number;
  /** The rate-limit window the simulator counted it in (its X-RateLimit-Reset). */
  window?: string;
}

/** Every action call as it reaches the simulator, in order, with its answer's status and window. */
function watchCalls(sim: Simulator): Call[] {
  const calls: Call[] = [];
  // First: the framework may answer a bodiless request in its own listener.
  sim.app.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const m = /\/providers\/([^/]+)\/(deactivate|activate)$/.exec(req.url ?? '');
    if (!m || req.method !== 'POST') return;
    const call: Call = { account: m[1] ?? '', action: m[2] ?? '', at: Date.now() };
    calls.push(call);
    // The framework hands the headers to writeHead in one object: read them there.
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    Object.assign(res, {
      writeHead: (...args: unknown[]) => {
        call.status = Number(args[0]);
        const headers = args.find((a): a is Record<string, unknown> => isHeaders(a));
        const reset = headers?.['x-ratelimit-reset'];
        if (typeof reset === 'string' || typeof reset === 'number') call.window = String(reset);
        return writeHead(...args);
      },
    });
  });
  return calls;
}

const isHeaders = (a: unknown): a is Record<string, unknown> =>
  typeof a === 'object' && a !== null && !Array.isArray(a);

function breakerOf(pl: Pipeline): Breaker {
  return createBreaker({
    redis: pl.redis,
    keys: pl.keys,
    producer: pl.producer,
    rules: () => RULES,
    dedupeTtlS: 3600,
    eventsMaxLen: 10_000,
  });
}

async function drained(pl: Pipeline, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => ((await pl.redis.zcard(pl.keys.pending)) === 0 ? true : undefined),
    timeoutMs,
    'every intent to end',
  );
}

const backlogOf = (n: number, from = 10) =>
  Array.from({ length: n }, (_, i) => manualIntent(simAccountId(from + i), `backlog-${i}`));

describe('a trip never waits for a slot of the actions queue', () => {
  it("a trip's call reaches the API while the limiter is full of backlog jobs, before its next slot opens", async () => {
    const pl = await pipeline({ rateLimitPerMinute: SLOW, concurrency: 2 });
    const calls = watchCalls(pl.sim);
    await pl.producer.enqueueMany(backlogOf(5));
    await pl.addWorker();
    // The backlog's first call took the limiter's slot: the next opens SLOT_MS later.
    await waitFor(() => (calls.length >= 1 ? true : undefined), 10_000, 'the first backlog call');
    const [count, left] = await Promise.all([
      pl.redis.get(pl.keys.limiter),
      pl.redis.pttl(pl.keys.limiter),
    ]);
    expect(Number(count)).toBeGreaterThanOrEqual(limiterFor(SLOW).max);
    expect(left).toBeGreaterThan(0);
    const nextSlotAt = Date.now() + left;

    const target = simAccountId(1);
    const trip = await breakerOf(pl).trip(target, 'spike');
    expect(trip.result).toBe('tripped');
    if (trip.result !== 'tripped') return;
    await pl.waitFor([trip.idempotencyKey], 3 * SLOT_MS);

    const tripCall = calls.find((c) => c.account === target);
    expect(tripCall?.action).toBe('deactivate');
    // Before the slot it would have waited for (routed through the actions queue it comes
    // SLOT_MS after the backlog's first call, in the next slot).
    expect(tripCall?.at ?? Infinity).toBeLessThan(nextSlotAt);
    expect(calls.filter((c) => c.account !== target)).toHaveLength(1);
    expect(pl.sim.account(target)?.status).toBe('inactive');
    expect(pl.sim.stats().executions.byKey[trip.idempotencyKey]).toBe(1);
  });

  it('the key window still holds: per window never more calls than its limit, no 429', async () => {
    const pl = await pipeline(
      { rateLimitPerMinute: 600, concurrency: 4, rateLimitLowWatermark: 0 },
      { rateLimit: 4, rateWindowMs: 1_000, rateAligned: true },
    );
    const calls = watchCalls(pl.sim);
    await pl.addWorker();
    // Two answers in two windows first, so the budget knows the window and its length (until
    // then it holds nothing back).
    await pl.producer.enqueue(manualIntent(simAccountId(38), 'learn-1'));
    await pl.waitFor(['learn-1']);
    await new Promise((r) => setTimeout(r, 1_100));
    await pl.producer.enqueue(manualIntent(simAccountId(39), 'learn-2'));
    await pl.waitFor(['learn-2']);

    // A backlog on the actions queue and eight trips at once on the urgent one: the trips may
    // take the whole window (the reserve too), never more.
    await pl.producer.enqueueMany(backlogOf(8));
    const b = breakerOf(pl);
    const trips = await Promise.all(
      Array.from({ length: 8 }, (_, i) => b.trip(simAccountId(i + 1), 'spike')),
    );
    const keys = trips.flatMap((t) => (t.result === 'tripped' ? [t.idempotencyKey] : []));
    expect(keys).toHaveLength(8);
    await pl.waitFor([...keys, ...backlogOf(8).map((i) => i.idempotencyKey)], 30_000);

    expect(pl.sim.stats().rateLimited).toBe(0);
    expect(calls.every((c) => c.status === 200)).toBe(true);
    const perWindow = new Map<string, number>();
    for (const c of calls) perWindow.set(c.window ?? '', (perWindow.get(c.window ?? '') ?? 0) + 1);
    expect(perWindow.has('')).toBe(false);
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(4);
    expect(calls).toHaveLength(18);
  });

  it('a pause of the actions queue (a 429) holds urgent calls too, until it ends', async () => {
    const pl = await pipeline(
      { rateLimitPerMinute: 600, rateLimitMaxWaitMs: 1_000, rateLimitLowWatermark: 0 },
      { rateLimit: 0, rateWindowMs: 1_000 },
    );
    const calls = watchCalls(pl.sim);
    const target = simAccountId(2);
    // Two 429s, each pausing every worker for 1 s (RATE_LIMIT_MAX_WAIT_MS), the urgent one too.
    pl.sim.script(target, [
      { kind: 'status', status: 429, retryAfterS: 1 },
      { kind: 'status', status: 429, retryAfterS: 1 },
    ]);
    await pl.addWorker();
    const trip = await breakerOf(pl).trip(target, 'spike');
    if (trip.result !== 'tripped') throw new Error(`not tripped: ${trip.result}`);
    await pl.waitFor([trip.idempotencyKey]);
    const mine = calls.filter((c) => c.account === target);
    expect(mine.map((c) => c.status)).toEqual([429, 429, 200]);
    // Each call after a 429 waited out the pause it set (not called again at once).
    for (let i = 1; i < mine.length; i++) {
      expect((mine[i]?.at ?? 0) - (mine[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    }
    expect(pl.sim.account(target)?.status).toBe('inactive');
  });

  it('an urgent intent waits while the actions queue is paused, and runs once it ends', async () => {
    const pl = await pipeline({ rateLimitPerMinute: 600 });
    const calls = watchCalls(pl.sim);
    await pl.addWorker();
    const pausedAt = Date.now();
    await pauseQueue(pl.redis, pl.keys, 1_500);
    const trip = await breakerOf(pl).trip(simAccountId(3), 'spike');
    if (trip.result !== 'tripped') throw new Error(`not tripped: ${trip.result}`);
    await pl.waitFor([trip.idempotencyKey]);
    expect(calls).toHaveLength(1);
    expect((calls[0]?.at ?? 0) - pausedAt).toBeGreaterThanOrEqual(1_450);
  });
});

describe('per-account order with an urgent deactivate and a queued activate', () => {
  it('the activate queued behind the limiter (older) ends superseded; the account stays off, held by the breaker', async () => {
    // 20 a minute: a slot of 3 s. The deactivation below takes it; the activate waits for the next.
    const pl = await pipeline({ rateLimitPerMinute: 20, concurrency: 2 });
    const calls = watchCalls(pl.sim);
    const A = simAccountId(4);
    await pl.addWorker();
    await runManual(pl, { action: 'deactivate', accountIds: [A], key: 'op-off' });
    await drained(pl);
    expect(pl.sim.account(A)?.status).toBe('inactive');
    // The operator's activate (released, bound, enqueued: it waits for the slot), then a trip.
    const [released] = await releaseHolds(pl.redis, pl.keys, [A], 'manual', () => ({
      key: 'op-on',
      source: 'manual',
      mode: 'force',
    }));
    expect(released?.activation).toMatchObject({ key: 'op-on', state: 'new' });
    await pl.producer.enqueue(manualIntent(A, 'op-on', 'activate'));
    const trip = await breakerOf(pl).trip(A, 'spike');
    if (trip.result !== 'tripped') throw new Error(`not tripped: ${trip.result}`);
    await pl.waitFor([trip.idempotencyKey, 'op-on']);

    const [on, off] = await readBindings(pl.redis, pl.keys, ['op-on', trip.idempotencyKey]);
    expect(off?.state).toBe('succeeded');
    // The trip is the newer intent: the activate, run after it, never calls.
    expect(on).toMatchObject({ state: 'superseded', supersededBy: trip.idempotencyKey });
    expect(calls.filter((c) => c.account === A).map((c) => c.action)).toEqual([
      'deactivate',
      'deactivate',
    ]);
    expect(pl.sim.account(A)?.status).toBe('inactive');
    expect(await readHolds(pl.redis, pl.keys, A)).toMatchObject({
      holds: [expect.objectContaining({ id: 'breaker' })],
    });
  });

  it('a trip during the activate call waits for it (calls never overlap) and ends the account off', async () => {
    const pl = await pipeline({ rateLimitPerMinute: 600 });
    const calls = watchCalls(pl.sim);
    const A = simAccountId(5);
    await pl.addWorker();
    await runManual(pl, { action: 'deactivate', accountIds: [A], key: 'op-off' });
    await drained(pl);
    // The activation's call takes 800 ms at the API.
    pl.sim.script(A, [{ kind: 'delay', ms: 800 }]);
    await releaseHolds(pl.redis, pl.keys, [A], 'manual', () => ({
      key: 'op-on',
      source: 'manual',
      mode: 'force',
    }));
    await pl.producer.enqueue(manualIntent(A, 'op-on', 'activate'));
    await waitFor(
      () => (calls.some((c) => c.account === A && c.action === 'activate') ? true : undefined),
      10_000,
      'the activate call',
    );
    const trip = await breakerOf(pl).trip(A, 'spike');
    if (trip.result !== 'tripped') throw new Error(`not tripped: ${trip.result}`);
    await pl.waitFor([trip.idempotencyKey, 'op-on']);

    const mine = calls.filter((c) => c.account === A);
    expect(mine.map((c) => c.action)).toEqual(['deactivate', 'activate', 'deactivate']);
    // The deactivate was called after the activate's answer (the account lease), not during it.
    const activate = mine[1];
    const deactivate = mine[2];
    expect((deactivate?.at ?? 0) - (activate?.at ?? 0)).toBeGreaterThanOrEqual(790);
    const [on, off] = await readBindings(pl.redis, pl.keys, ['op-on', trip.idempotencyKey]);
    expect(on?.state).toBe('succeeded');
    expect(off?.state).toBe('succeeded');
    expect(pl.sim.account(A)?.status).toBe('inactive');
  });
});

describe('crash recovery', () => {
  it("a worker's repair finds a queued intent's job in the urgent queue: not repaired as lost", async () => {
    const pl = await pipeline({});
    const trip = await breakerOf(pl).trip(simAccountId(6), 'spike');
    if (trip.result !== 'tripped') throw new Error(`not tripped: ${trip.result}`);
    const urgentQueue = createUrgentQueue(pl.config, pl.redis);
    try {
      expect(await urgentQueue.count()).toBe(1);
      const repaired = await repairStuckBindings({
        redis: pl.redis,
        queue: pl.producer.queue,
        urgentQueue,
        keys: pl.keys,
        config: pl.config,
        log: createLogger({ level: 'silent', pretty: false }),
        minAgeMs: 0,
      });
      expect(repaired).toEqual({ checked: 1, repaired: 0 });
      const [binding] = await readBindings(pl.redis, pl.keys, [trip.idempotencyKey]);
      expect(binding?.state).toBe('queued');
    } finally {
      await urgentQueue.close();
    }
  });
});
