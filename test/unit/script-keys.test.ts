/**
 * The key check every test run turns on (SDX_CHECK_SCRIPT_KEYS=1, vitest.config.ts): a script
 * that touches a key it did not declare in KEYS fails, as it would (half-way, during a slot
 * migration) on Redis Cluster. Checked here on the Lua text; the suites run every script with it.
 */
import { describe, expect, it } from 'vitest';
import { checkedLua, defineScript } from '../../src/store/script.js';

describe('checkedLua', () => {
  it('routes every call through the check, keeping the body', () => {
    const lua = checkedLua(
      `redis.call('GET', KEYS[1])\nreturn redis.pcall('HGET', ARGV[1] .. 'x', 'f')`,
    );
    expect(lua).toContain(`sdxCall('GET', KEYS[1])`);
    expect(lua).toContain(`sdxPcall('HGET', ARGV[1] .. 'x', 'f')`);
    expect(lua).not.toMatch(/^(?!local function sdx).*redis\.call\('GET'/m);
  });

  it('is what every test run uses', () => {
    expect(process.env.SDX_CHECK_SCRIPT_KEYS).toBe('1');
  });
});

describe('defineScript', () => {
  it('refuses a script with no key (a Cluster client would send it to any node)', async () => {
    const script = defineScript('return 1');
    await expect(script({} as never, [], [])).rejects.toThrow(/keys in KEYS/);
  });
});
