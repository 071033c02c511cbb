/**
 * Every key a script touches is declared in KEYS (Redis Cluster routes a script by them and,
 * while a slot migrates, answers ASK / TRYAGAIN from them before the script runs). The test
 * runs turn on the check (SDX_CHECK_SCRIPT_KEYS=1): a script that makes up a key fails.
 */
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/model.js';
import { claimKeys } from '../../src/store/claim-keys.js';
import { takeHold } from '../../src/store/holds.js';
import { defineScript } from '../../src/store/script.js';
import { redisPerTest } from '../support/context.js';
import { afterFirstPipeline } from '../support/race.js';

const fixture = redisPerTest();

describe('script keys', () => {
  it('a script that builds a key in Lua is refused; the same key declared works', async () => {
    const { redis, keys } = fixture.current();
    const script = defineScript(`
redis.call('SET', KEYS[1], 'a')
return redis.call('GET', ARGV[1] .. 'other')
`);
    await expect(script(redis, [`${keys.prefix}:one`], [`${keys.prefix}:`])).rejects.toThrow(
      /undeclared key .*:other in GET/,
    );
    await redis.set(`${keys.prefix}:other`, 'b');
    expect(
      await script(redis, [`${keys.prefix}:one`, `${keys.prefix}:other`], [`${keys.prefix}:`]),
    ).toBe('b');
  });

  it('a hold script whose account got a newer intent after its keys were read runs again with its binding', async () => {
    const { redis, keys } = fixture.current();
    const id = 'dprov_moved';
    // Right after the hold step reads which bindings the account leads to (one pipeline), an
    // intent is bound for it: the keys read are stale when the script runs.
    const race = afterFirstPipeline(redis, (real) =>
      claimKeys(real, keys, [
        {
          key: 'late',
          fingerprint: fingerprint({ action: 'deactivate', accountId: id, source: 'manual' }),
          action: 'deactivate',
          accountId: id,
          source: 'manual',
        },
      ]),
    );
    const taken = await takeHold(race.client, keys, id, { id: 'manual', source: 'manual' });
    expect(race.fired()).toBe(true);
    // The late deactivation is pending: the base is what it will make the account.
    expect(taken).toEqual({ taken: true, base: 'inactive', needOff: true });
  });
});
