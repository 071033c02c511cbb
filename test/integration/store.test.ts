/** Store operations on their own, against real Redis: claims, order, pauses. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { readBatch } from '../../src/store/batch-read.js';
import { addToBatch, openBatch } from '../../src/store/batch-record.js';
import { beginRun } from '../../src/store/begin-run.js';
import { readBindings } from '../../src/store/binding.js';
import { claimKeys, type Claim } from '../../src/store/claim-keys.js';
import { seenState } from '../../src/store/hold-record.js';
import { listHeldAccounts, readHolds, takeHold, takeHolds } from '../../src/store/holds.js';
import type { Keys } from '../../src/store/keys.js';
import { pauseQueue } from '../../src/store/pause-queue.js';
import { readRateBudget } from '../../src/store/rate-budget.js';
import { recordOutcome, type Cancelled } from '../../src/store/record-outcome.js';
import { redisPerTest } from '../support/context.js';
import { reportAnswer } from '../support/rate-answer.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const claim = (key: string, accountId: string, action = 'deactivate'): Claim => ({
  key,
  fingerprint: `${action} ${accountId} by manual`,
  action,
  accountId,
  source: 'manual',
});

const SETTINGS = { idempotencyTtlS: 86_400, eventsMaxLen: 1000 };

/** The cancellation of a batch account whose key was never bound (what `batch cancel` records). */
const unboundCancel = (batchId: string, accountId: string): Cancelled => ({
  outcome: 'cancelled',
  intent: {
    action: 'deactivate',
    accountId,
    idempotencyKey: `bulk:${batchId}:${accountId}`,
    source: 'bulk',
    sourceRef: batchId,
    reason: '',
  },
  seq: 0,
  jobId: '',
  attempts: 0,
  at: new Date(),
});

/** What `batch cancel` records for it: the key bound straight to `cancelled`. */
const cancelUnbound = (batchId: string, accountId: string) =>
  recordOutcome(redis, keys, SETTINGS, unboundCancel(batchId, accountId), undefined, {
    bindIfMissing: true,
  });

/** The claim a bulk pass makes for the same account. */
const bulkClaim = (batchId: string, accountId: string): Claim => ({
  key: `bulk:${batchId}:${accountId}`,
  fingerprint: `deactivate ${accountId} by bulk`,
  action: 'deactivate',
  accountId,
  source: 'bulk',
});

describe('claimKeys', () => {
  it('gives each new binding the next sequence number and makes it the newest of its account', async () => {
    const r = await claimKeys(redis, keys, [
      claim('a', 'dprov_1'),
      claim('b', 'dprov_1', 'activate'),
    ]);
    expect(r).toEqual({
      ok: true,
      claimed: [
        { state: 'new', seq: 1 },
        { state: 'new', seq: 2 },
      ],
    });
    expect(await redis.hgetall(keys.accountOrder('dprov_1'))).toEqual({ seq: '2', key: 'b' });
    // A repeat of an existing key neither takes a new number nor changes the order.
    const again = await claimKeys(redis, keys, [claim('a', 'dprov_1')]);
    expect(again).toEqual({ ok: true, claimed: [{ state: 'queued', seq: 1 }] });
    expect(await redis.hgetall(keys.accountOrder('dprov_1'))).toEqual({ seq: '2', key: 'b' });
    expect(await redis.zcard(keys.pending)).toBe(2);
  });

  it('is all-or-nothing: a key bound to another intent refuses the whole chunk', async () => {
    await claimKeys(redis, keys, [claim('a', 'dprov_1')]);
    const r = await claimKeys(redis, keys, [claim('fresh', 'dprov_2'), claim('a', 'dprov_9')]);
    expect(r).toMatchObject({ ok: false, conflict: { key: 'a' } });
    expect(await redis.exists(keys.binding('fresh'))).toBe(0);
    expect(await redis.get(keys.sequence)).toBe('1');
  });

  it('numbers the new keys of a mixed chunk in order and skips the known ones', async () => {
    await claimKeys(redis, keys, [claim('b', 'dprov_2'), claim('d', 'dprov_4')]);
    const r = await claimKeys(redis, keys, [
      claim('a', 'dprov_1'),
      claim('b', 'dprov_2'),
      claim('c', 'dprov_3'),
      claim('d', 'dprov_4'),
      claim('e', 'dprov_1', 'activate'),
    ]);
    expect(r).toEqual({
      ok: true,
      claimed: [
        { state: 'new', seq: 3 },
        { state: 'queued', seq: 1 },
        { state: 'new', seq: 4 },
        { state: 'queued', seq: 2 },
        { state: 'new', seq: 5 },
      ],
    });
    // The later of two new keys of one account in a chunk is its newest.
    expect(await redis.hgetall(keys.accountOrder('dprov_1'))).toEqual({ seq: '5', key: 'e' });
    expect(await redis.zcard(keys.pending)).toBe(5);
  });

  it("takes chunks past Lua's unpack limit (10,000 keys, the CLI's largest chunk)", async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => claim(`k${i}`, `dprov_${i}`));
    const r = await claimKeys(redis, keys, many);
    expect(r.ok && r.claimed.map((c) => c.seq)).toEqual(many.map((_, i) => i + 1));
    expect(await redis.zcard(keys.pending)).toBe(10_000);
    expect(await redis.get(keys.sequence)).toBe('10000');
  });
});

describe('addToBatch', () => {
  it('tells new, queued, done and repeated ids apart, across chunks and inside one', async () => {
    await openBatch(redis, keys, { id: 'b1', action: 'deactivate', source: 'test', reason: '' });
    expect(await addToBatch(redis, keys, 'b1', 1, ['dprov_1', 'dprov_2', 'dprov_1'])).toEqual([
      'new',
      'new',
      'repeat',
    ]);
    expect(await addToBatch(redis, keys, 'b1', 1, ['dprov_2', 'dprov_3'])).toEqual([
      'repeat',
      'new',
    ]);
    // dprov_1 was never bound (its pass was killed): cancelled, binding and all, in one step.
    expect(await cancelUnbound('b1', 'dprov_1')).toBe('recorded');
    // A later pass: known accounts are queued or done, not repeats.
    expect(await addToBatch(redis, keys, 'b1', 2, ['dprov_1', 'dprov_2', 'dprov_4'])).toEqual([
      'done',
      'queued',
      'new',
    ]);
    expect(await readBatch(redis, keys, 'b1')).toMatchObject({ total: 4 });
  });

  it('a cancel of a never-bound account and a resuming pass: the account runs never, and is counted once', async () => {
    await openBatch(redis, keys, { id: 'b3', action: 'deactivate', source: 'test', reason: '' });
    expect(await addToBatch(redis, keys, 'b3', 1, ['dprov_1', 'dprov_2'])).toEqual(['new', 'new']);
    // A resume pass met both accounts still open (its add ran before the cancel)...
    await openBatch(redis, keys, { id: 'b3', action: 'deactivate', source: 'test', reason: '' });
    expect(await addToBatch(redis, keys, 'b3', 2, ['dprov_1', 'dprov_2'])).toEqual([
      'queued',
      'queued',
    ]);
    // ... dprov_1 is cancelled before the pass claims its key: the claim finds it terminal.
    expect(await cancelUnbound('b3', 'dprov_1')).toBe('recorded');
    // ... dprov_2's key is claimed by the pass first: the cancel leaves that binding alone.
    const claimed = await claimKeys(redis, keys, [
      bulkClaim('b3', 'dprov_1'),
      bulkClaim('b3', 'dprov_2'),
    ]);
    expect(claimed).toEqual({
      ok: true,
      claimed: [
        { state: 'cancelled', seq: 0 },
        { state: 'new', seq: 1 },
      ],
    });
    expect(await cancelUnbound('b3', 'dprov_2')).toBe('stale');
    const [one, two] = await readBindings(redis, keys, ['bulk:b3:dprov_1', 'bulk:b3:dprov_2']);
    expect(one).toMatchObject({
      state: 'cancelled',
      seq: 0,
      fingerprint: 'deactivate dprov_1 by bulk',
    });
    expect(two).toMatchObject({ state: 'queued', seq: 1 });
    expect(await redis.ttl(keys.binding('bulk:b3:dprov_1'))).toBeGreaterThan(0);
    // A second cancel of dprov_1 finds it terminal: one event, one count.
    expect(await cancelUnbound('b3', 'dprov_1')).toBe('terminal');
    expect(await readBatch(redis, keys, 'b3')).toMatchObject({ total: 2, cancelled: 1, queued: 1 });
    const events = await redis.xrange(keys.events, '-', '+');
    expect(events).toHaveLength(1);
  });

  it("takes chunks past Lua's unpack limit (10,000 ids, half repeated)", async () => {
    await openBatch(redis, keys, { id: 'b2', action: 'deactivate', source: 'test', reason: '' });
    const ids = Array.from({ length: 10_000 }, (_, i) => `dprov_${i % 5000}`);
    const added = await addToBatch(redis, keys, 'b2', 1, ids);
    expect(added.filter((a) => a === 'new')).toHaveLength(5000);
    expect(added.slice(5000).every((a) => a === 'repeat')).toBe(true);
    expect(await readBatch(redis, keys, 'b2')).toMatchObject({ total: 5000 });
  });
});

describe('beginRun', () => {
  it('tells a run whose job lock is not its own that it lost the job', async () => {
    await claimKeys(redis, keys, [claim('a', 'dprov_1')]);
    const run = {
      jobId: 'k-a@1',
      token: 'mine',
      key: 'a',
      seq: 1,
      accountId: 'dprov_1',
      action: 'deactivate' as const,
    };
    expect(await beginRun(redis, keys, run, 1_000)).toEqual({ kind: 'lost' });
    await redis.set(keys.jobLock('k-a@1'), 'mine');
    expect(await beginRun(redis, keys, run, 1_000, { reserve: 0, now: 5_000 })).toMatchObject({
      kind: 'go',
      starts: 1,
    });
    // When the run was let go is kept on the binding (the model test reads it).
    expect((await readBindings(redis, keys, ['a']))[0]?.beganAt).toBe(5_000);
    // Re-entrant for the same key (a re-run after a crash holds its own lease).
    expect(await beginRun(redis, keys, run, 1_000)).toMatchObject({ kind: 'go', starts: 2 });
    expect(await beginRun(redis, keys, { ...run, seq: 7 }, 1_000)).toEqual({ kind: 'stale' });
  });
});

describe('the rate budget (begin-run takes, record-outcome observes)', () => {
  /** Report an answer's X-RateLimit-* headers (the outcome itself is refused: no such job). */
  const answer = (limit: number, remaining: number, resetAtMs: number) =>
    reportAnswer(redis, keys, { limit, remaining, resetAtMs });
  let next = 0;
  /** Begin a run of a fresh intent (its own account) at `now`. */
  const begin = async (now: number, reserve = 0, urgent = false) => {
    next++;
    const key = `b${next}`;
    const accountId = `dprov_${next}`;
    const { claimed } = (await claimKeys(redis, keys, [claim(key, accountId)])) as {
      claimed: { seq: number }[];
    };
    const seq = claimed[0]?.seq ?? 0;
    await redis.set(keys.jobLock(`k-${key}@${seq}`), 't');
    const run = {
      jobId: `k-${key}@${seq}`,
      token: 't',
      key,
      seq,
      accountId,
      action: 'deactivate' as const,
    };
    return (await beginRun(redis, keys, run, 1_000, { reserve, now, urgent })).kind;
  };

  it('holds nothing back before any answer, then leaves room for what others used', async () => {
    expect(await begin(1_000)).toBe('go');
    expect(await readRateBudget(redis, keys)).toMatchObject({ limit: null, ours: 0 });
    // The API: a window of 10 ending at 2 s, 3 calls used by someone else.
    expect(await answer(10, 7, 2_000)).toBe('lost'); // refused, but the window is learned
    expect(await readRateBudget(redis, keys)).toMatchObject({
      limit: 10,
      windowEnd: 2_000,
      others: 3,
    });
    const kinds = [];
    for (let i = 0; i < 8; i++) kinds.push(await begin(1_500));
    // 10 - 3 others = 7 for us, then wait for the window to end.
    expect(kinds).toEqual(['go', 'go', 'go', 'go', 'go', 'go', 'go', 'budget']);
    expect((await readRateBudget(redis, keys)).ours).toBe(7);
  });

  it('lets an urgent call (a breaker trip) past the pacing and into the reserve, never past the limit', async () => {
    await answer(10, 10, 2_000);
    await answer(10, 10, 3_000); // windows of 1 s, 10 calls, nobody else
    // Early in the window the pacing holds the others back after the first call or two...
    const paced = [];
    for (let i = 0; i < 3; i++) paced.push(await begin(2_050, 0.2));
    expect(paced).toContain('budget');
    // ... not an urgent one.
    expect(await begin(2_050, 0.2, true)).toBe('go');
    // Late in the window: the others stop at 10 - 20 % = 8; urgent ones go on to the limit.
    const late = [];
    for (let i = 0; i < 8; i++) late.push(await begin(2_950, 0.2));
    expect((await readRateBudget(redis, keys)).ours).toBe(8);
    expect(late.at(-1)).toBe('budget');
    expect(await begin(2_950, 0.2, true)).toBe('go');
    expect(await begin(2_950, 0.2, true)).toBe('go');
    expect(await begin(2_950, 0.2, true)).toBe('budget');
    expect((await readRateBudget(redis, keys)).ours).toBe(10);
  });

  it('paces through a window that ends later than its learned length (never holds every call back)', async () => {
    await answer(10, 10, 2_000);
    await answer(10, 10, 3_000); // learned: windows of 1 s
    await answer(10, 10, 40_000); // then a window ending 37 s on (opened by a first call)
    expect(await readRateBudget(redis, keys)).toMatchObject({ windowMs: 1_000, windowEnd: 40_000 });
    // 36.9 s before its end: not paced as if it had not begun (every call held back in waits of
    // a few ms until 1 s before its end), but still within the allowance: 10 - 20 % reserve.
    const kinds = [];
    for (let i = 0; i < 9; i++) kinds.push(await begin(3_100, 0.2));
    expect(kinds.filter((k) => k === 'go')).toHaveLength(8);
    expect(kinds.at(-1)).toBe('budget');
  });

  it('learns the window length, rolls windows over by itself, and keeps the reserve', async () => {
    await answer(10, 10, 2_000);
    await answer(10, 9, 3_000); // the next window: 1 s long, 1 used by someone else
    expect(await readRateBudget(redis, keys)).toMatchObject({
      windowMs: 1_000,
      windowEnd: 3_000,
      others: 1,
    });
    // Reserve 20 % of 10 = 2; others 1: room for 7.
    const kinds = [];
    for (let i = 0; i < 8; i++) kinds.push(await begin(2_950, 0.2)); // late in the window: not paced
    expect(kinds.filter((k) => k === 'go')).toHaveLength(7);
    expect(kinds.at(-1)).toBe('budget');
    // At 3.1 s the window is over: a new one starts (the others seen in the last one: 1).
    expect(await begin(3_100, 0.2)).toBe('go');
    expect(await readRateBudget(redis, keys)).toMatchObject({
      windowEnd: 4_000,
      ours: 1,
      others: 1,
    });
  });
});

describe('pauseQueue', () => {
  it('keeps the later deadline: a short pause never cuts a longer one', async () => {
    expect(await pauseQueue(redis, keys, 5_000)).toBe(5_000);
    const kept = await pauseQueue(redis, keys, 1_000);
    expect(kept).toBeGreaterThan(4_000);
    expect(await redis.pttl(keys.limiter)).toBeGreaterThan(4_000);
    expect(await pauseQueue(redis, keys, 9_000)).toBe(9_000);
    expect(await redis.pttl(keys.limiter)).toBeGreaterThan(8_000);
  });
});

describe('takeHolds', () => {
  it('takes one hold on many accounts: the first hold records before and indexes, a repeat is a no-op', async () => {
    const t0 = new Date(1_000_000);
    await takeHold(
      redis,
      keys,
      'dprov_a',
      { id: 'manual', source: 'manual' },
      seenState('inactive'),
      t0,
    );
    const hold = { id: 'bulk:b', source: 'bulk' as const, ref: 'b', actor: 'alice' };
    const targets = [
      { accountId: 'dprov_a', seen: seenState('active') },
      { accountId: 'dprov_b', seen: seenState('active') },
      { accountId: 'dprov_c' },
    ];
    const taken = (r: { taken: boolean }[]) => r.map((x) => x.taken);
    expect(taken(await takeHolds(redis, keys, targets, hold, new Date(2_000_000)))).toEqual([
      true,
      true,
      true,
    ]);
    expect(taken(await takeHolds(redis, keys, targets, hold, new Date(3_000_000)))).toEqual([
      false,
      false,
      false,
    ]);
    const a = await readHolds(redis, keys, 'dprov_a');
    expect(a.before).toBe('inactive'); // its first hold's, not the run's
    expect(a.holds.map((h) => h.id)).toEqual(['manual', 'bulk:b']);
    expect(a.since).toBe(t0.toISOString());
    const b = await readHolds(redis, keys, 'dprov_b');
    expect(b).toMatchObject({ before: 'active', since: new Date(2_000_000).toISOString() });
    expect(b.holds).toEqual([
      {
        id: 'bulk:b',
        source: 'bulk',
        ref: 'b',
        reason: '',
        actor: 'alice',
        at: new Date(2_000_000).toISOString(),
      },
    ]);
    // A hold taken without an actor reads as null.
    expect((await readHolds(redis, keys, 'dprov_a')).holds[0]).toMatchObject({
      id: 'manual',
      actor: null,
    });
    expect((await readHolds(redis, keys, 'dprov_c')).before).toBe('unknown');
    expect(await listHeldAccounts(redis, keys)).toEqual(['dprov_a', 'dprov_b', 'dprov_c']);
    expect(await redis.zscore(keys.holdsIndex, 'dprov_a')).toBe('1000000');
    expect(await redis.zscore(keys.holdsIndex, 'dprov_c')).toBe('2000000');
  });

  it("indexes chunks past Lua's unpack limit (5,000 accounts)", async () => {
    const targets = Array.from({ length: 5_000 }, (_, i) => ({
      accountId: `dprov_${i}`,
      seen: seenState('active'),
    }));
    const taken = await takeHolds(redis, keys, targets, { id: 'bulk:x', source: 'bulk' });
    expect(taken.every((t) => t.taken)).toBe(true);
    expect(await redis.zcard(keys.holdsIndex)).toBe(5_000);
  });
});
