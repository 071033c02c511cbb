/**
 * `sendmux-deactivator demo` on a machine with no Redis to reach: REDIS_URL unset and the
 * default URL pointed at a closed port (SDX_DEFAULT_REDIS_URL), it starts a throwaway
 * redis-server, says so first, runs, and stops it.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freeLoopbackPort, pingRedis } from '../../src/redis/redis-server.js';
import { runCli } from '../support/cli-process.js';

describe('demo without a reachable Redis', () => {
  it('starts a throwaway redis-server, says so in its first line, succeeds and stops it', async () => {
    const closed = `redis://127.0.0.1:${await freeLoopbackPort()}`;
    const r = await runCli(
      ['demo', '--accounts', '5'],
      { SDX_DEFAULT_REDIS_URL: closed, LOG_LEVEL: 'silent' },
      ['REDIS_URL'],
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const first = r.stdout.split('\n')[0] ?? '';
    const match =
      /^demo: Redis at (redis:\/\/127\.0\.0\.1:(\d+)) \(throwaway redis-server on port (\d+), data in (\S+): REDIS_URL is unset and nothing answered at (\S+); stopped at the end\)$/.exec(
        first,
      );
    expect(match, first).not.toBeNull();
    const [, url = '', port, samePort, dir = '', triedUrl] = match ?? [];
    expect(samePort).toBe(port);
    expect(triedUrl).toBe(closed);
    // The demo ran on it: 5 good accounts + the shared SES account succeed, the 4 bad ids fail.
    expect(r.stdout).toMatch(/succeeded\s+6\n/);
    expect(r.stdout).toMatch(/failed\s+4\b/);
    // ...and it is gone afterwards, with its directory.
    expect((await pingRedis(url)).ok).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
