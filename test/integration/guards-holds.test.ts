/**
 * The guards of store/holds.ts and store/known-state.ts that no other test caught, one test per
 * promise (issue 19 §4): each fails with its guard broken (the mutations of
 * test/guards/guards.ts, `npm run test:guards`). Real Redis, a prefix per test.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { fingerprint, type AccountState } from '../../src/model.js';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { readBindings } from '../../src/store/binding.js';
import { claimKeys } from '../../src/store/claim-keys.js';
import { seenOf, seenState, type HoldInput } from '../../src/store/hold-record.js';
import { releaseHold, releaseHolds, takeHold } from '../../src/store/holds.js';
import type { Keys } from '../../src/store/keys.js';
import { recordOutcome, type Outcome } from '../../src/store/record-outcome.js';
import { readStatuses } from '../../src/store/status-record.js';
import { redisPerTest } from '../support/context.js';
import { afterFirstPipeline } from '../support/race.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const ID = 'dprov_h1';
const MANUAL: HoldInput = { id: 'manual', source: 'manual' };
const BREAKER: HoldInput = { id: 'breaker', source: 'breaker' };
const SETTINGS = { idempotencyTtlS: 86_400, eventsMaxLen: 1000 };
const T1 = '2026-01-01T00:00:01.000Z';

const acc = (status: string, updatedAt: string | null = T1): AccountState => ({
  status,
  is_active: status === 'active',
  status_reason: null,
  updated_at: updatedAt,
});

async function claim(key: string, action: 'deactivate' | 'activate', accountId = ID) {
  const r = await claimKeys(redis, keys, [
    {
      key,
      fingerprint: fingerprint({ action, accountId, source: 'manual' }),
      action,
      accountId,
      source: 'manual',
    },
  ]);
  if (!r.ok) throw new Error('claim refused');
  return r.claimed[0]?.seq ?? 0;
}

/** Bind `key` for ID and record its outcome: a success with `account`, else a failure. */
async function recorded(key: string, action: 'deactivate' | 'activate', account?: AccountState) {
  const seq = await claim(key, action);
  const base = {
    intent: { action, accountId: ID, idempotencyKey: key, source: 'manual' as const, reason: '' },
    seq,
    jobId: `job-${key}`,
    attempts: 1,
    at: new Date(),
  };
  const o: Outcome = account
    ? { ...base, outcome: 'succeeded', account, requestId: null, httpStatus: 200 }
    : {
        ...base,
        outcome: 'failed',
        httpStatus: 500,
        errorCode: 'internal_error',
        errorMessage: 'boom',
        requestId: null,
      };
  expect(await recordOutcome(redis, keys, SETTINGS, o, undefined)).toBe('recorded');
}

const status = async () => (await readStatuses(redis, keys, [ID]))[0];
const activation = (key: string, mode: 'base' | 'base-if-off' | 'force') => () => ({
  key,
  source: 'manual' as const,
  mode,
});

describe('takeHold guards', () => {
  it('an account known to be off with nothing pending is not switched off again', async () => {
    await recorded('a', 'deactivate', acc('inactive'));
    expect(await takeHold(redis, keys, ID, MANUAL)).toEqual({
      taken: true,
      base: 'inactive',
      needOff: false,
    });
  });

  it('a finished intent is not pending: an activation that failed says nothing of the account', async () => {
    await recorded('a', 'activate');
    expect(await takeHold(redis, keys, ID, MANUAL)).toEqual({
      taken: true,
      base: 'unknown',
      needOff: true,
    });
  });

  it('an account recorded `pending` (activated, OAuth) counts as on, `error` as off', async () => {
    await recorded('a', 'activate', acc('pending'));
    expect(await takeHold(redis, keys, ID, MANUAL)).toMatchObject({ base: 'active' });
    const other = 'dprov_h2';
    await redis.hset(keys.status(other), 'account', JSON.stringify({ status: 'error' }));
    expect(await takeHold(redis, keys, other, MANUAL)).toMatchObject({
      base: 'inactive',
      needOff: false,
    });
  });

  it('an intent still running (holding the lease) counts as pending, its keys read when it moved', async () => {
    // The account's newest intent is finished; another one (bound to another account's key
    // space, as after a cancel) takes the account's lease right after the hold step read its
    // keys: the step runs again with that binding declared, and counts it as pending.
    await recorded('a', 'deactivate', acc('active'));
    await claim('late', 'deactivate', 'dprov_other');
    const race = afterFirstPipeline(redis, (real) => real.set(keys.accountLease(ID), 'late'));
    expect(await takeHold(race.client, keys, ID, MANUAL)).toEqual({
      taken: true,
      base: 'inactive',
      needOff: true,
    });
    expect(race.fired()).toBe(true);
  });

  it('a recorded account part that is not an account object says nothing of the account', async () => {
    await redis.hset(keys.status(ID), 'account', '5');
    expect(await takeHold(redis, keys, ID, MANUAL)).toEqual({
      taken: true,
      base: 'unknown',
      needOff: true,
    });
  });
});

describe('what a hold step records of a read', () => {
  it('no read records nothing: no status where there was none, the record as it is where there was', async () => {
    await takeHold(redis, keys, ID, MANUAL);
    expect(await redis.exists(keys.status(ID))).toBe(0);
    await releaseHold(redis, keys, ID, 'manual');
    await recorded('a', 'deactivate', acc('inactive'));
    await takeHold(redis, keys, ID, MANUAL);
    expect(await status()).toMatchObject({ status: 'inactive', updated_at: T1 });
  });

  it('over what is recorded, a read that does not say when it is from is not written', async () => {
    await recorded('a', 'deactivate', acc('inactive'));
    await takeHold(redis, keys, ID, MANUAL, seenState('active'));
    expect(await status()).toMatchObject({ status: 'inactive', updated_at: T1 });
  });

  it('over a recorded read that did not say when it was from, a timed read is written', async () => {
    await takeHold(redis, keys, ID, MANUAL, seenState('active'));
    expect(await status()).toMatchObject({ status: 'active', updated_at: null });
    await takeHold(redis, keys, ID, BREAKER, seenOf(acc('inactive', T1)));
    expect(await status()).toMatchObject({ status: 'inactive', updated_at: T1 });
  });

  it('over what is recorded, only a newer read is written: not an older one, not one as old', async () => {
    await recorded('a', 'deactivate', acc('inactive'));
    await takeHold(redis, keys, ID, MANUAL, seenOf(acc('active', '2026-01-01T00:00:00.000Z')));
    expect(await status()).toMatchObject({ status: 'inactive', updated_at: T1 });
    await takeHold(redis, keys, ID, BREAKER, seenOf(acc('active', T1)));
    expect(await status()).toMatchObject({ status: 'inactive', updated_at: T1 });
    await takeHold(
      redis,
      keys,
      ID,
      { id: 'x', source: 'manual' },
      seenOf(acc('active', '2026-01-01T00:00:02.000Z')),
    );
    expect(await status()).toMatchObject({ status: 'active' });
  });
});

describe('release guards', () => {
  it('a release of a hold that is not there changes nothing', async () => {
    expect(await releaseHold(redis, keys, ID, 'manual')).toEqual({ released: false });
    await takeHold(redis, keys, ID, BREAKER, seenState('active'));
    expect(await releaseHold(redis, keys, ID, 'manual')).toEqual({ released: false });
  });

  it('a release that leaves holds names them', async () => {
    await takeHold(redis, keys, ID, MANUAL, seenState('active'));
    await takeHold(redis, keys, ID, BREAKER);
    expect(await releaseHold(redis, keys, ID, 'manual')).toEqual({
      released: true,
      last: false,
      heldBy: ['breaker'],
    });
  });

  it("an operator's activate binds the activation only when no hold is left", async () => {
    await takeHold(redis, keys, ID, MANUAL, seenState('inactive'));
    await takeHold(redis, keys, ID, BREAKER);
    const [first] = await releaseHolds(redis, keys, [ID], 'manual', activation('act-1', 'force'));
    expect(first?.activation).toBeNull();
    const [last] = await releaseHolds(redis, keys, [ID], 'breaker', activation('act-2', 'force'));
    expect(last?.activation).toMatchObject({ key: 'act-2', state: 'new' });
  });

  it('a release whose source never switched the account off binds nothing when it is known on', async () => {
    await takeHold(redis, keys, ID, MANUAL, seenState('active'));
    const [r] = await releaseHolds(redis, keys, [ID], 'manual', activation('act-1', 'base-if-off'));
    expect(r?.activation).toBeNull();
    // The same with `base`: bound.
    await takeHold(redis, keys, ID, MANUAL);
    const [again] = await releaseHolds(redis, keys, [ID], 'manual', activation('act-2', 'base'));
    expect(again?.activation).toMatchObject({ key: 'act-2', state: 'new' });
  });

  it('a release asked without an activation binds none, even when the account goes back on', async () => {
    // A plain release (no activation key: releaseHold, or releaseHolds without one for the
    // account) of the last hold over an active base: nothing is bound, not even under an empty
    // key, and no number is taken.
    await takeHold(redis, keys, ID, MANUAL, seenState('active'));
    const seq = Number(await redis.get(keys.sequence));
    const [r] = await releaseHolds(redis, keys, [ID], 'manual');
    expect(r).toEqual({
      result: { released: true, last: true, before: 'active' },
      heldBy: [],
      activation: null,
    });
    expect(await readBindings(redis, keys, [''])).toEqual([undefined]);
    expect(Number(await redis.get(keys.sequence))).toBe(seq);
  });

  it('an activation key already bound to the same intent answers its state; to another, refuses', async () => {
    const fp = fingerprint({ action: 'activate', accountId: ID, source: 'manual' });
    await takeHold(redis, keys, ID, MANUAL, seenState('active'));
    await claimKeys(redis, keys, [
      {
        key: 'act-1',
        fingerprint: fp,
        action: 'activate',
        accountId: 'dprov_elsewhere',
        source: 'manual',
      },
    ]);
    const seq = Number(await redis.get(keys.sequence));
    const [r] = await releaseHolds(redis, keys, [ID], 'manual', activation('act-1', 'base'));
    expect(r?.activation).toEqual({ key: 'act-1', state: 'queued', seq });
    expect(Number(await redis.get(keys.sequence))).toBe(seq);

    await takeHold(redis, keys, ID, MANUAL);
    await claim('act-2', 'deactivate');
    await expect(
      releaseHolds(redis, keys, [ID], 'manual', activation('act-2', 'base')),
    ).rejects.toThrow(/bound to another intent/);
    expect((await readBindings(redis, keys, ['act-2']))[0]?.action).toBe('deactivate');
  });
});
