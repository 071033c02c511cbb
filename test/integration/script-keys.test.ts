/**
 * Every key a script touches is declared in KEYS (Redis Cluster routes a script by them and,
 * while a slot migrates, answers ASK / TRYAGAIN from them before the script runs). The test
 * runs turn on the check (SDX_CHECK_SCRIPT_KEYS=1): a script that makes up a key fails.
 */
import { describe, expect, it } from 'vitest';
import { defineScript } from '../../src/store/script.js';
import { redisPerTest } from '../support/context.js';

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
});
