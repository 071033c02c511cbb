/**
 * Retention (issue 18, part 4), against real Redis: an account the API does not know keeps no
 * hold; failed jobs go after FAILED_JOB_RETENTION_S; the retention sweep removes idle account
 * records (never one a hold, a lease or a pending intent needs), quiet closed breakers,
 * finished batches, and window occurrences beyond the newest N.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueActions } from '../../src/ops/enqueue-actions.js';
import { simAccountId } from '../../src/sim/index.js';
import { readBatch } from '../../src/store/batch-read.js';
import { openBatch, addToBatch, endBatchPass } from '../../src/store/batch-record.js';
import { readBreaker } from '../../src/store/breaker-state.js';
import { countAndTrip } from '../../src/store/breaker-trip.js';
import { claimKeys } from '../../src/store/claim-keys.js';
import { readHolds, takeHold } from '../../src/store/holds.js';
import { recordOutcome, type Outcome } from '../../src/store/record-outcome.js';
import {
  sweepAccounts,
  sweepBatches,
  sweepBreakers,
  sweepOccurrences,
} from '../../src/store/retention.js';
import { beginOccurrence, skipOccurrence } from '../../src/store/window-occurrence.js';
import { createWindowRecord } from '../../src/store/window-record.js';
import { redisPerTest } from '../support/context.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { ACT_RULES } from '../support/trip-settings.js';

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

const A = simAccountId(1);
const MISSING = 'dprov_retention_missing';
const DAY = 86_400_000;

describe('an account the API does not know', () => {
  it('keeps no hold once its deactivation ends 404 not_found, and no activation is bound', async () => {
    p = await startPipeline({ sim: { accounts: 4 } });
    // Another source's hold on the same unknown account stays: only the intent's own goes.
    await takeHold(p.redis, p.keys, MISSING, { id: 'window:w1:o1', source: 'window' });
    const { reports } = await enqueueActions(p.config, {
      action: 'deactivate',
      accountIds: [MISSING, A],
      wait: true,
      waitTimeoutMs: 15_000,
    });
    expect(reports.map((r) => [r.account_id, r.state])).toEqual([
      [MISSING, 'failed'],
      [A, 'succeeded'],
    ]);
    const [failed] = await p.events('action.failed');
    expect(failed).toMatchObject({
      account_id: MISSING,
      http_status: 404,
      error_code: 'not_found',
    });
    expect((await readHolds(p.redis, p.keys, MISSING)).holds.map((h) => h.id)).toEqual([
      'window:w1:o1',
    ]);
    // A known account's hold is not touched by its success.
    expect((await readHolds(p.redis, p.keys, A)).holds.map((h) => h.id)).toEqual(['manual']);

    // Alone: the 404 releases the last hold, the index entry goes, nothing is bound.
    const other = `${MISSING}_2`;
    await enqueueActions(p.config, {
      action: 'deactivate',
      accountIds: [other],
      wait: true,
      waitTimeoutMs: 15_000,
    });
    expect((await readHolds(p.redis, p.keys, other)).holds).toEqual([]);
    expect(await p.redis.zscore(p.keys.holdsIndex, other)).toBeNull();
    expect(await p.redis.exists(p.keys.holds(other))).toBe(0);
    const order = await p.redis.hget(p.keys.accountOrder(other), 'key');
    expect(order).toMatch(/^deactivate-/); // no activation became its newest intent
    expect((await p.events('action.succeeded')).map((e) => e.account_id)).toEqual([A]);
  });
});

describe('failed jobs', () => {
  it('are removed after FAILED_JOB_RETENTION_S; their outcome stays in the binding and event', async () => {
    p = await startPipeline({ sim: { accounts: 2 }, config: { failedJobRetentionS: 1 } });
    const first = await enqueueActions(p.config, {
      action: 'deactivate',
      accountIds: [`${MISSING}_a`],
      wait: true,
      waitTimeoutMs: 15_000,
    });
    expect(first.reports[0]?.state).toBe('failed');
    const queue = p.producer.queue;
    expect(await queue.getJobCountByTypes('failed')).toBe(1);
    await new Promise((r) => setTimeout(r, 2_100));
    // BullMQ removes failed jobs older than the age as later ones fail.
    await enqueueActions(p.config, {
      action: 'deactivate',
      accountIds: [`${MISSING}_b`],
      wait: true,
      waitTimeoutMs: 15_000,
    });
    expect(await queue.getJobCountByTypes('failed')).toBe(1);
    const key = first.reports[0]?.idempotency_key ?? '';
    expect(await p.redis.hget(p.keys.binding(key), 'state')).toBe('failed');
    expect((await p.events('action.failed')).length).toBe(2);
  });
});

describe('the retention sweep', () => {
  const ctx = redisPerTest();
  const TTL = 30 * DAY;

  function success(key: string, accountId: string, seq: number, at: Date): Outcome {
    return {
      outcome: 'succeeded',
      intent: {
        action: 'deactivate',
        accountId,
        idempotencyKey: key,
        source: 'manual',
        reason: '',
      },
      seq,
      jobId: `k-${key}@${seq}`,
      attempts: 1,
      at,
      account: { status: 'inactive', is_active: false, status_reason: null, updated_at: null },
      requestId: null,
      httpStatus: 200,
    };
  }

  async function claim(key: string, accountId: string, now: number): Promise<number> {
    const r = await claimKeys(
      ctx.current().redis,
      ctx.current().keys,
      [{ key, fingerprint: `fp-${key}`, action: 'deactivate', accountId, source: 'manual' }],
      now,
    );
    if (!r.ok) throw new Error('conflict');
    return r.claimed[0]?.seq ?? 0;
  }

  async function finished(key: string, accountId: string, now: number): Promise<void> {
    const { redis, keys } = ctx.current();
    const seq = await claim(key, accountId, now);
    const r = await recordOutcome(
      redis,
      keys,
      { idempotencyTtlS: 86_400, eventsMaxLen: 1000 },
      success(key, accountId, seq, new Date(now)),
      undefined,
    );
    expect(r).toBe('recorded');
  }

  const records = async (id: string) => {
    const { redis, keys } = ctx.current();
    return [
      await redis.exists(keys.status(id)),
      await redis.exists(keys.accountOrder(id)),
      (await redis.zscore(keys.statusIndex, id)) === null ? 0 : 1,
    ];
  };

  it('removes an idle account after ACCOUNT_RECORD_TTL_S, never one that is held, running or pending', async () => {
    const { redis, keys } = ctx.current();
    const t0 = Date.now() - 40 * DAY;
    await finished('idle-1', 'dprov_idle', t0);
    await finished('held-1', 'dprov_held', t0);
    await takeHold(redis, keys, 'dprov_held', { id: 'manual', source: 'manual' });
    await finished('lease-1', 'dprov_lease', t0);
    await redis.set(keys.accountLease('dprov_lease'), 'another-key', 'PX', 60_000);
    await finished('newest-1', 'dprov_newest', t0);
    await claim('newest-2', 'dprov_newest', t0 - 1); // queued: the account's newest intent
    // An older intent still queued behind a newer one that has its outcome: begin-run needs the
    // order to end it superseded; the known state needs it too.
    const t1 = Date.now() - 35 * DAY;
    await claim('older-1', 'dprov_older', t1);
    await finished('older-2', 'dprov_older', t1 + 10);
    await finished('recent-1', 'dprov_recent', Date.now());

    const now = Date.now();
    // The oldest pending intent (claimed 40 days ago) bars every account recorded since.
    expect(await sweepAccounts(redis, keys, now - TTL)).toBe(0);
    await redis.zadd(keys.pending, now, 'newest-2'); // as if claimed just now
    expect(await sweepAccounts(redis, keys, now - TTL)).toBe(1);
    expect(await records('dprov_idle')).toEqual([0, 0, 0]);
    for (const id of ['dprov_held', 'dprov_lease', 'dprov_newest', 'dprov_older', 'dprov_recent']) {
      expect(await records(id), id).toEqual([1, 1, 1]);
    }
    // The older intent ends (superseded): nothing pending is older than the account's outcome.
    await redis.zrem(keys.pending, 'older-1');
    await redis.hset(keys.binding('older-1'), 'state', 'superseded');
    expect(await sweepAccounts(redis, keys, now - TTL)).toBe(1);
    expect(await records('dprov_older')).toEqual([0, 0, 0]);
    // Once idle (hold released, lease gone, newest intent ended), they go too.
    await redis.del(keys.holds('dprov_held'), keys.accountLease('dprov_lease'));
    await redis.hset(keys.binding('newest-2'), 'state', 'cancelled');
    await redis.zrem(keys.pending, 'newest-2');
    expect(await sweepAccounts(redis, keys, now - TTL)).toBe(3);
    for (const id of ['dprov_held', 'dprov_lease', 'dprov_newest']) {
      expect(await records(id), id).toEqual([0, 0, 0]);
    }
    expect(await records('dprov_recent')).toEqual([1, 1, 1]);
  });

  it('removes a quiet closed breaker and its breaker-index entry, never an open one', async () => {
    const { redis, keys } = ctx.current();
    const rules = ACT_RULES;
    const settings = { rules, dedupeTtlS: 3600, eventsMaxLen: 1000 };
    const old = new Date(Date.now() - 40 * DAY);
    await countAndTrip(redis, keys, { accountId: 'dprov_quiet', kind: 'delivered' }, settings, old);
    await countAndTrip(redis, keys, { accountId: 'dprov_open', force: true }, settings, old);
    await countAndTrip(redis, keys, { accountId: 'dprov_busy', kind: 'delivered' }, settings);
    expect(await redis.zcard(keys.breakerIndex)).toBe(3);
    expect(await sweepBreakers(redis, keys, Date.now() - TTL)).toBe(1);
    expect(await redis.zrange(keys.breakerIndex, 0, -1)).toEqual(
      expect.arrayContaining(['dprov_open', 'dprov_busy']),
    );
    expect(await redis.zscore(keys.breakerIndex, 'dprov_quiet')).toBeNull();
    expect((await readBreaker(redis, keys, 'dprov_open')).state).toBe('open');
  });

  it('removes a batch BATCH_RECORD_TTL_S after it finished, never one still enqueueing', async () => {
    const { redis, keys } = ctx.current();
    const t0 = Date.now() - 40 * DAY;
    for (const id of ['done', 'running', 'waiting']) {
      await openBatch(redis, keys, { id, action: 'deactivate', source: 'bulk', reason: '' }, t0);
    }
    await addToBatch(redis, keys, 'waiting', 1, ['dprov_waits']);
    const none = { invalid: 0, duplicates: 0, skipped: 0 };
    // An empty pass ends finished at once; 'waiting' has an account without its outcome; the
    // other never ends its pass (a killed CLI, to be resumed).
    await endBatchPass(redis, keys, 'done', 1, none, t0);
    await endBatchPass(redis, keys, 'waiting', 1, none, t0);
    expect((await readBatch(redis, keys, 'done'))?.finished_at).not.toBeNull();
    expect((await readBatch(redis, keys, 'waiting'))?.finished_at).toBeNull();
    expect(await sweepBatches(redis, keys, Date.now() - TTL)).toBe(1);
    expect(await readBatch(redis, keys, 'done')).toBeUndefined();
    expect(await redis.exists(keys.batchAccounts('done'))).toBe(0);
    expect(await readBatch(redis, keys, 'running')).toBeDefined();
    expect(await redis.exists(keys.batchAccounts('waiting'))).toBe(1);
    expect((await redis.zrange(keys.batchIndex, 0, -1)).sort()).toEqual(['running', 'waiting']);
    // Finished just now: kept.
    await endBatchPass(redis, keys, 'running', 1, none);
    expect(await sweepBatches(redis, keys, Date.now() - TTL)).toBe(0);
  });

  it('keeps the newest WINDOW_OCCURRENCES_KEEP occurrences of a window, and any still running', async () => {
    const { redis, keys } = ctx.current();
    await createWindowRecord(redis, keys, { id: 'w', targets: [], schedule: {}, reason: '' });
    const base = Date.now() - DAY;
    const occ = (i: number) => ({
      windowId: 'w',
      occurrence: String(base + i * 1000),
      startsMs: base + i * 1000,
      endsMs: base + i * 1000 + 500,
    });
    await beginOccurrence(redis, keys, occ(0)); // the oldest is still starting: kept
    for (let i = 1; i < 10; i++) await skipOccurrence(redis, keys, occ(i), '{}', 1000);
    expect(await sweepOccurrences(redis, keys, 3)).toBe(6);
    const left = await redis.zrange(keys.windowOccurrences('w'), 0, -1);
    expect(left).toEqual([occ(0), occ(7), occ(8), occ(9)].map((o) => o.occurrence));
    expect(await redis.exists(keys.windowOccurrence('w', occ(1).occurrence))).toBe(0);
    expect(await sweepOccurrences(redis, keys, 3)).toBe(0);
  });
});
