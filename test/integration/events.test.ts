/** The events stream as library users read it: history, live tail, consumer groups. */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventConsumer, followEvents, readRecentEvents } from '../../src/events/stream.js';
import { keysFor, type Keys } from '../../src/keys.js';
import { recordOutcome, type Outcome } from '../../src/status/record-outcome.js';
import { dropPrefix, redisUrl, uniquePrefix } from '../support/context.js';

let redis: Redis;
let keys: Keys;
const settings = { idempotencyTtlS: 60, eventsMaxLen: 1000 };

beforeEach(() => {
  redis = new Redis(redisUrl());
  keys = keysFor(uniquePrefix());
});
afterEach(async () => {
  await redis.quit();
  await dropPrefix(keys.prefix);
});

function failure(i: number): Outcome {
  return {
    outcome: 'failed',
    intent: {
      action: 'deactivate',
      providerId: `dprov_e${i}`,
      idempotencyKey: `ev-${i}`,
      source: 'manual',
      reason: 'r',
    },
    jobId: `k-ev-${i}`,
    attempts: 1,
    at: new Date(),
    httpStatus: 404,
    errorCode: 'not_found',
    errorMessage: 'not found',
    requestId: `req_${i}`,
  };
}

describe('events', () => {
  it('records an outcome once: a repeat (a re-run after a crash) emits nothing', async () => {
    expect(await recordOutcome(redis, keys, settings, failure(1))).toBe(true);
    expect(await recordOutcome(redis, keys, settings, failure(1))).toBe(false);
    expect(await readRecentEvents(redis, keys)).toHaveLength(1);
  });

  it('reads the most recent N, filtered by type, oldest first', async () => {
    for (let i = 0; i < 5; i++) await recordOutcome(redis, keys, settings, failure(i));
    const last2 = await readRecentEvents(redis, keys, { limit: 2 });
    expect(last2.map((e) => e.idempotency_key)).toEqual(['ev-3', 'ev-4']);
    expect(await readRecentEvents(redis, keys, { type: 'action.succeeded' })).toEqual([]);
  });

  it('caps the stream length', async () => {
    const small = { ...settings, eventsMaxLen: 100 };
    for (let i = 0; i < 400; i++) await recordOutcome(redis, keys, small, failure(i));
    // MAXLEN ~ trims whole macro nodes: the length stays near the cap, far below 400.
    expect(await redis.xlen(keys.events)).toBeLessThan(300);
  });

  it('delivers each event to a consumer group once, and redelivers unacknowledged ones', async () => {
    const consumer = createEventConsumer(redis, keys, {
      group: 'alerts',
      consumer: 'c1',
      startId: '0',
    });
    await consumer.ensureGroup();
    await consumer.ensureGroup(); // idempotent
    await recordOutcome(redis, keys, settings, failure(1));
    await recordOutcome(redis, keys, settings, failure(2));
    const first = await consumer.read();
    expect(first.map((e) => e.idempotency_key)).toEqual(['ev-1', 'ev-2']);
    expect(await consumer.read()).toEqual([]);
    await consumer.ack([first[0]?.id ?? '']);
    // "c1 crashed": the unacknowledged event is still pending for it ...
    expect((await consumer.pending()).map((e) => e.idempotency_key)).toEqual(['ev-2']);
    // ... and another consumer can take it over.
    const other = createEventConsumer(redis, keys, { group: 'alerts', consumer: 'c2' });
    const claimed = await other.claimStale(0);
    expect(claimed.map((e) => e.idempotency_key)).toEqual(['ev-2']);
    expect(await other.ack(claimed.map((e) => e.id ?? ''))).toBe(1);
  });

  it('follows new events live', async () => {
    const tail = new Redis(redisUrl());
    const controller = new AbortController();
    try {
      await recordOutcome(redis, keys, settings, failure(1)); // history, not followed
      const seen: string[] = [];
      const done = (async () => {
        for await (const e of followEvents(tail, keys, {
          blockMs: 100,
          signal: controller.signal,
        })) {
          seen.push(e.idempotency_key);
          if (seen.length === 2) controller.abort();
        }
      })();
      await new Promise((r) => setTimeout(r, 150));
      await recordOutcome(redis, keys, settings, failure(2));
      await recordOutcome(redis, keys, settings, failure(3));
      await done;
      expect(seen).toEqual(['ev-2', 'ev-3']);
    } finally {
      await tail.quit();
    }
  });
});
