/**
 * The guards of store/record-outcome.ts, store/begin-run.ts and store/count-wait.ts, one test
 * per promise (issue 19 §4): each fails with its guard broken (the mutations of
 * test/guards/guards.ts, `npm run test:guards`). Real Redis, a prefix per test.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AccountState, Intent } from '../../src/model.js';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { beginRun, type RunRef } from '../../src/store/begin-run.js';
import { readBindings } from '../../src/store/binding.js';
import { claimKeys } from '../../src/store/claim-keys.js';
import { countWait } from '../../src/store/count-wait.js';
import { seenOf } from '../../src/store/hold-record.js';
import { readHolds, takeHold } from '../../src/store/holds.js';
import type { Keys } from '../../src/store/keys.js';
import { recordOutcome, type Outcome } from '../../src/store/record-outcome.js';
import { readStatuses } from '../../src/store/status-record.js';
import { redisPerTest } from '../support/context.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const SETTINGS = { idempotencyTtlS: 86_400, eventsMaxLen: 1000 };
const ACCOUNT = 'dprov_g1';

const intentOf = (key: string, action: 'deactivate' | 'activate' = 'deactivate'): Intent => ({
  action,
  accountId: ACCOUNT,
  idempotencyKey: key,
  source: 'manual',
  reason: '',
});

/** Claim keys for ACCOUNT in this order (sequence numbers 1, 2, ...). */
async function claim(...list: [string, ('deactivate' | 'activate')?][]): Promise<void> {
  const r = await claimKeys(
    redis,
    keys,
    list.map(([key, action = 'deactivate']) => ({
      key,
      fingerprint: `${action} ${ACCOUNT} by manual`,
      action,
      accountId: ACCOUNT,
      source: 'manual',
    })),
  );
  expect(r.ok).toBe(true);
}

const account = (status: 'active' | 'inactive', updatedAt: string): AccountState => ({
  status,
  is_active: status === 'active',
  status_reason: null,
  updated_at: updatedAt,
});

function succeeded(key: string, seq: number, acc: AccountState): Outcome {
  return {
    outcome: 'succeeded',
    intent: intentOf(key, acc.status === 'active' ? 'activate' : 'deactivate'),
    seq,
    jobId: `job-${key}`,
    attempts: 1,
    at: new Date(),
    account: acc,
    requestId: `req-${key}`,
    httpStatus: 200,
  };
}

function failed(key: string, seq: number, httpStatus = 500, errorCode = 'internal_error'): Outcome {
  return {
    outcome: 'failed',
    intent: intentOf(key),
    seq,
    jobId: `job-${key}`,
    attempts: 1,
    at: new Date(),
    httpStatus,
    errorCode,
    errorMessage: 'boom',
    requestId: null,
  };
}

const cancelled = (key: string, seq: number): Outcome => ({
  outcome: 'cancelled',
  intent: intentOf(key),
  seq,
  jobId: `job-${key}`,
  attempts: 0,
  at: new Date(),
});

const record = (o: Outcome, token?: string) => recordOutcome(redis, keys, SETTINGS, o, token);
const status = async () => (await readStatuses(redis, keys, [ACCOUNT]))[0];
const T1 = '2026-01-01T00:00:01.000Z';
const T2 = '2026-01-01T00:00:02.000Z';

describe('recordOutcome guards', () => {
  it('refuses a run that does not hold the job lock (lost), writing nothing', async () => {
    await claim(['a']);
    await redis.set(keys.jobLock('job-a'), 'someone-else');
    expect(await record(failed('a', 1), 'mine')).toBe('lost');
    expect((await readBindings(redis, keys, ['a']))[0]?.state).toBe('queued');
  });

  it('records for the run that holds the job lock', async () => {
    await claim(['a']);
    await redis.set(keys.jobLock('job-a'), 'mine');
    expect(await record(failed('a', 1), 'mine')).toBe('recorded');
  });

  it('refuses another generation of the key (stale), even binding if missing', async () => {
    await claim(['a']);
    expect(await record(failed('a', 7))).toBe('stale');
    expect(
      await recordOutcome(redis, keys, SETTINGS, failed('a', 7), undefined, {
        bindIfMissing: true,
      }),
    ).toBe('stale');
    expect((await readBindings(redis, keys, ['a']))[0]).toMatchObject({ state: 'queued', seq: 1 });
  });

  it('records once: a second outcome of a terminal intent is refused with no second event', async () => {
    await claim(['a']);
    expect(await record(failed('a', 1))).toBe('recorded');
    expect(await record(succeeded('a', 1, account('inactive', T1)))).toBe('terminal');
    expect(await redis.xlen(keys.events)).toBe(1);
    expect((await readBindings(redis, keys, ['a']))[0]?.state).toBe('failed');
  });

  it("an older intent's outcome does not replace the newer one's as the last action", async () => {
    await claim(['a'], ['b']);
    expect(await record(failed('b', 2))).toBe('recorded');
    expect(await record(succeeded('a', 1, account('inactive', T1)))).toBe('recorded');
    expect(await status()).toMatchObject({ idempotency_key: 'b', last_outcome: 'failed' });
  });

  it('a failure sets last_error; a success does not, nor does it clear the account', async () => {
    await claim(['a'], ['b']);
    await record(succeeded('a', 1, account('inactive', T1)));
    expect((await status())?.last_error).toBeNull();
    await record(failed('b', 2));
    expect(await status()).toMatchObject({
      status: 'inactive',
      updated_at: T1,
      last_error: { code: 'internal_error', http_status: 500 },
    });
  });

  it('an equal updated_at from an older intent does not overwrite the status', async () => {
    await claim(['a'], ['b', 'activate']);
    // The newer intent (b, seq 2) records first; the older one (a) answered the same second.
    await record(succeeded('b', 2, account('active', T1)));
    await record(succeeded('a', 1, account('inactive', T1)));
    expect(await status()).toMatchObject({ status: 'active', request_id: 'req-b' });
  });

  it('an equal updated_at from a newer intent does overwrite the status', async () => {
    await claim(['a'], ['b', 'activate']);
    await record(succeeded('a', 1, account('inactive', T1)));
    await record(succeeded('b', 2, account('active', T1)));
    expect(await status()).toMatchObject({ status: 'active', request_id: 'req-b' });
  });

  it('an equal updated_at over a read recorded by a hold step (no intent number) overwrites it', async () => {
    await takeHold(
      redis,
      keys,
      ACCOUNT,
      { id: 'manual', source: 'manual' },
      seenOf(account('active', T1)),
    );
    expect(await status()).toMatchObject({ status: 'active', updated_at: T1 });
    await claim(['a']);
    await record(succeeded('a', 1, account('inactive', T1)));
    expect(await status()).toMatchObject({ status: 'inactive', request_id: 'req-a' });
  });

  it('an older updated_at does not overwrite the status, even from a newer intent', async () => {
    await claim(['a'], ['b', 'activate']);
    await record(succeeded('a', 1, account('inactive', T2)));
    await record(succeeded('b', 2, account('active', T1)));
    expect(await status()).toMatchObject({ status: 'inactive', updated_at: T2 });
  });

  it('a newer updated_at overwrites the status, even from an older intent', async () => {
    await claim(['a', 'activate'], ['b']);
    await record(succeeded('b', 2, account('inactive', T1)));
    await record(succeeded('a', 1, account('active', T2)));
    expect(await status()).toMatchObject({ status: 'active', updated_at: T2 });
  });

  it('a cancelled intent is not an action: the status shows none, the index has the account', async () => {
    await claim(['a']);
    await redis.zadd(keys.statusIndex, 5, ACCOUNT);
    expect(await record(cancelled('a', 1))).toBe('recorded');
    expect(await status()).toBeUndefined();
    // Indexed without moving an entry that is there.
    expect(await redis.zscore(keys.statusIndex, ACCOUNT)).toBe('5');
  });

  it('an outcome releases the account lease it holds, and only its own', async () => {
    await claim(['a'], ['b']);
    await redis.set(keys.accountLease(ACCOUNT), 'b');
    await record(failed('a', 1));
    expect(await redis.get(keys.accountLease(ACCOUNT))).toBe('b');
    await record(failed('b', 2));
    expect(await redis.get(keys.accountLease(ACCOUNT))).toBeNull();
  });

  it('a 404 not_found deactivation lets go of the hold it was asked under; a 500 does not', async () => {
    await claim(['a'], ['b']);
    await takeHold(redis, keys, ACCOUNT, { id: 'manual', source: 'manual' });
    await record(failed('a', 1));
    expect((await readHolds(redis, keys, ACCOUNT)).holds.map((h) => h.id)).toEqual(['manual']);
    await record(failed('b', 2, 404, 'not_found'));
    expect((await readHolds(redis, keys, ACCOUNT)).holds).toEqual([]);
  });
});

const run = (
  key: string,
  seq: number,
  action: 'deactivate' | 'activate' = 'deactivate',
): RunRef => ({
  jobId: `job-${key}`,
  token: `tok-${key}`,
  key,
  seq,
  accountId: ACCOUNT,
  action,
});

async function begin(r: RunRef) {
  await redis.set(keys.jobLock(r.jobId), r.token);
  return beginRun(redis, keys, r, 60_000);
}

describe('countWait guards', () => {
  it('a put-back of a run that lost its job counts nothing and keeps the lease', async () => {
    await claim(['a']);
    expect(await begin(run('a', 1))).toMatchObject({ kind: 'go' });
    await redis.set(keys.jobLock('job-a'), 'someone-else');
    expect(await countWait(redis, keys, run('a', 1), 'auth', true)).toBeUndefined();
    expect(await redis.get(keys.accountLease(ACCOUNT))).toBe('a');
    expect((await readBindings(redis, keys, ['a']))[0]?.waits.auth).toBe(0);
  });

  it('gives the lease back only when asked, and only its own', async () => {
    await claim(['a'], ['b']);
    expect(await begin(run('b', 2))).toMatchObject({ kind: 'go' });
    expect(await countWait(redis, keys, run('b', 2), 'shutdown', false)).toBe(1);
    expect(await redis.get(keys.accountLease(ACCOUNT))).toBe('b');
    await redis.set(keys.jobLock('job-a'), 'tok-a');
    expect(await countWait(redis, keys, run('a', 1), 'auth', true)).toBe(1);
    expect(await redis.get(keys.accountLease(ACCOUNT))).toBe('b');
    expect(await countWait(redis, keys, run('b', 2), 'auth', true)).toBe(1);
    expect(await redis.get(keys.accountLease(ACCOUNT))).toBeNull();
  });
});

describe('beginRun guards', () => {
  it('a terminal intent never calls the API again', async () => {
    await claim(['a']);
    await record(failed('a', 1));
    expect(await begin(run('a', 1))).toEqual({ kind: 'terminal', state: 'failed' });
  });

  it('an intent with a newer one for the same account is superseded, not run', async () => {
    await claim(['a'], ['b']);
    expect(await begin(run('a', 1))).toEqual({ kind: 'superseded', by: 'b' });
    expect(await redis.get(keys.accountLease(ACCOUNT))).toBeNull();
  });

  it('a newer intent withdrawn before it ran supersedes nothing: the older one runs, the newest now', async () => {
    await claim(['a'], ['b']);
    expect(await record(cancelled('b', 2))).toBe('recorded');
    expect(await begin(run('a', 1))).toMatchObject({ kind: 'go', starts: 1 });
    expect(await redis.hgetall(keys.accountOrder(ACCOUNT))).toEqual({ seq: '1', key: 'a' });
  });

  it('one call per account at a time: another intent holding the lease makes it wait', async () => {
    await claim(['a']);
    await redis.set(keys.accountLease(ACCOUNT), 'other', 'PX', 60_000);
    const r = await begin(run('a', 1));
    expect(r.kind).toBe('busy');
    expect(await redis.get(keys.accountLease(ACCOUNT))).toBe('other');
    expect((await readBindings(redis, keys, ['a']))[0]?.starts).toBe(0);
  });
});
