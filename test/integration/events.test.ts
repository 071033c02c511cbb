/** The events stream as library users read it: history, live tail, consumer groups. */
import { beforeEach, describe, expect, it } from 'vitest';
import { isActionEvent, type StreamEvent } from '../../src/model.js';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { claimKeys } from '../../src/store/claim-keys.js';
import { createEventConsumer, followEvents, readRecentEvents } from '../../src/store/events.js';
import type { Keys } from '../../src/store/keys.js';
import { recordOutcome, type Outcome } from '../../src/store/record-outcome.js';
import { redisPerTest, testRedis } from '../support/context.js';

const settings = { idempotencyTtlS: 60, eventsMaxLen: 1000 };

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

function failure(i: number, seq: number): Outcome {
  return {
    seq,
    outcome: 'failed',
    intent: {
      action: 'deactivate',
      accountId: `dprov_e${i}`,
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

/** Bind the key (as a producer would), then record a 404 failure for it. */
async function record(i: number, s = settings) {
  const claimed = await claimKeys(redis, keys, [
    {
      key: `ev-${i}`,
      fingerprint: `deactivate dprov_e${i} by manual`,
      action: 'deactivate',
      accountId: `dprov_e${i}`,
      source: 'manual',
    },
  ]);
  const seq = claimed.ok ? (claimed.claimed[0]?.seq ?? 0) : 0;
  return recordOutcome(redis, keys, s, failure(i, seq), undefined);
}

const keyOf = (e: StreamEvent) => ('idempotency_key' in e ? e.idempotency_key : undefined);

describe('events', () => {
  it('records an outcome once: a repeat (a re-run after a crash) emits nothing', async () => {
    expect(await record(1)).toBe('recorded');
    expect(await record(1)).toBe('terminal');
    expect(await readRecentEvents(redis, keys)).toHaveLength(1);
  });

  it('reads the most recent N, filtered by type, oldest first', async () => {
    for (let i = 0; i < 5; i++) await record(i);
    const last2 = await readRecentEvents(redis, keys, { limit: 2 });
    expect(last2.map((e) => keyOf(e))).toEqual(['ev-3', 'ev-4']);
    expect(await readRecentEvents(redis, keys, { type: 'action.succeeded' })).toEqual([]);
  });

  it('caps the stream length', async () => {
    const small = { ...settings, eventsMaxLen: 100 };
    for (let i = 0; i < 400; i++) await record(i, small);
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
    await record(1);
    await record(2);
    const first = await consumer.read();
    expect(first.map((e) => keyOf(e))).toEqual(['ev-1', 'ev-2']);
    expect(await consumer.read()).toEqual([]);
    await consumer.ack([first[0]?.id ?? '']);
    // "c1 crashed": the unacknowledged event is still pending for it ...
    expect((await consumer.pending()).map((e) => keyOf(e))).toEqual(['ev-2']);
    // ... and another consumer can take it over.
    const other = createEventConsumer(redis, keys, { group: 'alerts', consumer: 'c2' });
    const claimed = await other.claimStale(0);
    expect(claimed.map((e) => keyOf(e))).toEqual(['ev-2']);
    expect(await other.ack(claimed.map((e) => e.id ?? ''))).toBe(1);
  });

  it('follows new events live', async () => {
    const tail = testRedis(keys.prefix, null);
    const controller = new AbortController();
    try {
      await record(1); // history, not followed
      const [history] = await readRecentEvents(redis, keys, { limit: 1 });
      const seen: string[] = [];
      const done = (async () => {
        // Following from a known entry: no race with the writes below, no sleep needed.
        for await (const e of followEvents(tail, keys, {
          after: history?.id ?? '0-0',
          blockMs: 100,
          signal: controller.signal,
        })) {
          if (isActionEvent(e)) seen.push(e.idempotency_key);
          if (seen.length === 2) controller.abort();
        }
      })();
      await record(2);
      await record(3);
      await done;
      expect(seen).toEqual(['ev-2', 'ev-3']);
    } finally {
      await tail.quit();
    }
  });
});
