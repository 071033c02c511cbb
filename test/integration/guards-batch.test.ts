/**
 * The guards of store/batch-record.ts that no other test caught (the pass's own id checks are
 * store.test.ts's `addToBatch`), one test per promise (issue 19 §4): each fails with its guard
 * broken (the mutations of test/guards/guards.ts, `npm run test:guards`). Real Redis, a prefix
 * per test.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { readBatch } from '../../src/store/batch-read.js';
import { addToBatch, endBatchPass, openBatch } from '../../src/store/batch-record.js';
import type { Keys } from '../../src/store/keys.js';
import { recordOutcome } from '../../src/store/record-outcome.js';
import { redisPerTest } from '../support/context.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const T0 = Date.parse('2026-02-01T00:00:00.000Z');
const NONE = { invalid: 0, duplicates: 0, skipped: 0 };
const batch = (action: 'deactivate' | 'activate' = 'deactivate', reason = 'first') => ({
  id: 'b1',
  action,
  source: 'bulk',
  reason,
});

/** What `batch cancel` records for an account whose key was never bound: its end in the batch. */
const cancelled = (accountId: string) =>
  recordOutcome(
    redis,
    keys,
    { idempotencyTtlS: 86_400, eventsMaxLen: 1000 },
    {
      outcome: 'cancelled',
      intent: {
        action: 'deactivate',
        accountId,
        idempotencyKey: `bulk:b1:${accountId}`,
        source: 'bulk',
        sourceRef: 'b1',
        reason: '',
      },
      seq: 0,
      jobId: '',
      attempts: 0,
      at: new Date(T0),
    },
    undefined,
    { bindIfMissing: true },
  );

describe('batch record guards', () => {
  it('a resume of another action is refused; of the same one keeps what the batch has', async () => {
    expect(await openBatch(redis, keys, batch(), T0)).toEqual({ ok: true, pass: 1, created: true });
    await addToBatch(redis, keys, 'b1', 1, ['dprov_1', 'dprov_2']);
    expect(await openBatch(redis, keys, batch('activate'), T0 + 1000)).toEqual({
      ok: false,
      existingAction: 'deactivate',
    });
    expect(await openBatch(redis, keys, batch('deactivate', 'second'), T0 + 2000)).toEqual({
      ok: true,
      pass: 2,
      created: false,
    });
    expect(await readBatch(redis, keys, 'b1')).toMatchObject({
      action: 'deactivate',
      reason: 'first',
      created_at: new Date(T0).toISOString(),
      pass_started_at: new Date(T0 + 2000).toISOString(),
      total: 2,
      passes: 2,
    });
  });

  it('is finished once every account is done and no pass is enqueueing: not before, and once', async () => {
    await openBatch(redis, keys, batch(), T0);
    await addToBatch(redis, keys, 'b1', 1, ['dprov_1']);
    // Every account done while the pass still enqueues: not finished.
    expect(await cancelled('dprov_1')).toBe('recorded');
    expect(await readBatch(redis, keys, 'b1')).toMatchObject({ total: 1, cancelled: 1 });
    expect((await readBatch(redis, keys, 'b1'))?.finished_at).toBeNull();
    // The pass ends: finished (done == total), at the end's time, kept by an end run again.
    await endBatchPass(redis, keys, 'b1', 1, NONE, T0 + 1000);
    await endBatchPass(redis, keys, 'b1', 1, NONE, T0 + 2000);
    expect((await readBatch(redis, keys, 'b1'))?.finished_at).toBe(
      new Date(T0 + 1000).toISOString(),
    );
  });

  it("another intent with the batch's ref (an undo's activation) leaves a closed account as it is", async () => {
    await openBatch(redis, keys, batch(), T0);
    await addToBatch(redis, keys, 'b1', 1, ['dprov_1']);
    await cancelled('dprov_1');
    const undo = await recordOutcome(
      redis,
      keys,
      { idempotencyTtlS: 86_400, eventsMaxLen: 1000 },
      {
        outcome: 'cancelled',
        intent: {
          action: 'activate',
          accountId: 'dprov_1',
          idempotencyKey: 'undo:b1:dprov_1',
          source: 'bulk',
          sourceRef: 'b1',
          reason: '',
        },
        seq: 0,
        jobId: '',
        attempts: 0,
        at: new Date(T0 + 1000),
      },
      undefined,
      { bindIfMissing: true },
    );
    expect(undo).toBe('recorded');
    expect(await readBatch(redis, keys, 'b1')).toMatchObject({ total: 1, cancelled: 1 });
    expect(await redis.hget(keys.batch('b1'), 'done')).toBe('1');
  });
});
