/**
 * The key checks, one test per promise (issue 19 §4): the runtime check of store/script.ts
 * (every key a script touches is declared in KEYS; the test runs turn it on), and the scripts'
 * own checks that the keys read before them still hold (holds.ts's release, a window's start
 * and end: a write between the read and the script makes them answer KEYS_CHANGED, and the
 * step runs again with the keys read anew). Each fails with its guard broken (the mutations of
 * test/guards/guards.ts, `npm run test:guards`). Real Redis, a prefix per test.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/model.js';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { claimKeys } from '../../src/store/claim-keys.js';
import { seenState } from '../../src/store/hold-record.js';
import { readHolds, releaseHolds, takeHold } from '../../src/store/holds.js';
import type { Keys } from '../../src/store/keys.js';
import { defineScript } from '../../src/store/script.js';
import { holdForOccurrence, releaseForOccurrence } from '../../src/store/window-holds.js';
import {
  beginOccurrence,
  markStarted,
  type OccurrenceRef,
} from '../../src/store/window-occurrence.js';
import { redisPerTest } from '../support/context.js';
import { afterFirstPipeline } from '../support/race.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const A = 'dprov_k1';
const E = 'dprov_k2';

/** Bind a deactivation of `accountId` under `key` (queued: pending for the account). */
const lateIntent = (client: Redis, key: string, accountId: string) =>
  claimKeys(client, keys, [
    {
      key,
      fingerprint: fingerprint({ action: 'deactivate', accountId, source: 'manual' }),
      action: 'deactivate',
      accountId,
      source: 'manual',
    },
  ]);

describe('the key check of every script (script.ts)', () => {
  const k = (name: string) => `${keys.prefix}:${name}`;

  it('checks every key of a command that takes only keys (DEL), whatever the case of its name', async () => {
    for (const cmd of ['DEL', 'del']) {
      const script = defineScript(`return redis.call('${cmd}', KEYS[1], ARGV[1])`);
      await expect(script(redis, [k('one')], [k('two')])).rejects.toThrow(
        /undeclared key .*:two in DEL/,
      );
      expect(await script(redis, [k('one'), k('two')], [k('two')])).toBe(0);
    }
  });

  it('checks the stream of XGROUP / XINFO (their second argument), not the subcommand', async () => {
    const script = defineScript(`
redis.call('XGROUP', 'CREATE', KEYS[1], 'g', '$', 'MKSTREAM')
return redis.call('XINFO', 'STREAM', ARGV[1])[2]
`);
    await expect(script(redis, [k('s1')], [k('s2')])).rejects.toThrow(
      /undeclared key .*:s2 in XINFO/,
    );
    // (The refused run created its group first: the check fails a script half-way.)
    expect(await script(redis, [k('s3')], [k('s3')])).toBe(0);
  });

  it('checks the stream of XREAD (after STREAMS)', async () => {
    await redis.xadd(k('s2'), '*', 'f', 'v');
    const script = defineScript(`return redis.call('XREAD', 'COUNT', 1, 'STREAMS', ARGV[1], '0')`);
    await expect(script(redis, [k('s1')], [k('s2')])).rejects.toThrow(
      /undeclared key .*:s2 in XREAD/,
    );
    expect(await script(redis, [k('s1'), k('s2')], [k('s2')])).toHaveLength(1);
  });

  it('checks redis.pcall as redis.call', async () => {
    const script = defineScript(`return redis.pcall('GET', ARGV[1])`);
    await expect(script(redis, [k('one')], [k('two')])).rejects.toThrow(
      /undeclared key .*:two in GET/,
    );
  });

  it('lets a command without a key through', async () => {
    const script = defineScript(`
local t = redis.call('TIME')
return {redis.call('PING')['ok'], #t}
`);
    expect(await script(redis, [k('one')], [])).toEqual(['PONG', 2]);
  });
});

describe('the scripts that check the keys they were given still hold', () => {
  it('a release whose account got a newer intent after its keys were read decides with its binding', async () => {
    // Held with base active; after the release read its keys a deactivation is asked: the
    // account is not known to be on any more, so a `base-if-off` release binds the activation.
    await takeHold(redis, keys, A, { id: 'manual', source: 'manual' }, seenState('active'));
    const race = afterFirstPipeline(redis, (real) => lateIntent(real, 'late', A));
    const [r] = await releaseHolds(race.client, keys, [A], 'manual', () => ({
      key: 'act-1',
      source: 'manual',
      mode: 'base-if-off',
    }));
    expect(race.fired()).toBe(true);
    expect(r?.activation).toMatchObject({ key: 'act-1', state: 'new' });
  });

  const ref: OccurrenceRef = { windowId: 'w1', occurrence: 'o1' };
  const HOLD = { id: 'window:w1:o1', source: 'window' as const };
  const times = { startsMs: 1_000_000, endsMs: 2_000_000 };

  it("a window's start whose account got a newer intent after its keys were read holds it with that intent's base", async () => {
    await beginOccurrence(redis, keys, { ...ref, ...times });
    const race = afterFirstPipeline(redis, (real) => lateIntent(real, 'late', A));
    const decided = await holdForOccurrence(
      race.client,
      keys,
      ref,
      [{ accountId: A, read: 'seen', seen: seenState('active') }],
      HOLD,
    );
    expect(race.fired()).toBe(true);
    expect(decided).toEqual(['switch_off']);
    expect(await readHolds(redis, keys, A)).toMatchObject({ before: 'inactive' });
  });

  it("a window's end that read its accounts while the start still held more releases those too", async () => {
    await beginOccurrence(redis, keys, { ...ref, ...times });
    await holdForOccurrence(
      redis,
      keys,
      ref,
      [{ accountId: A, read: 'seen', seen: seenState('active') }],
      HOLD,
    );
    // The end reads the accounts to release (A) while the start is still at work: it holds E
    // too, and the occurrence is started, before the end's script runs.
    const race = afterFirstPipeline(redis, async (real) => {
      await holdForOccurrence(
        real,
        keys,
        ref,
        [{ accountId: E, read: 'seen', seen: seenState('active') }],
        HOLD,
      );
      await markStarted(real, keys, ref, ['{}'], 100);
    });
    const ended = await releaseForOccurrence(race.client, keys, ref, HOLD.id, ['w:', ':end']);
    expect(race.fired()).toBe(true);
    expect(ended && Object.fromEntries(ended)).toEqual({
      [A]: { do: 'reactivate' },
      [E]: { do: 'reactivate' },
    });
    expect((await readHolds(redis, keys, E)).holds).toEqual([]);
  });
});
