/**
 * The maintenance-window demo (`demo --windows`) end to end on a short clock: one occurrence
 * of a window starting every 3 s for 1 s. Its checks must pass, and its numbers must add up.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { runWindowDemo } from '../../src/demo/window-demo.js';
import { createLogger } from '../../src/logger.js';
import { redisUrl, testConfig } from '../support/context.js';

describe('demo --windows', () => {
  it('switches the others off and on once, keeps the off one off and the held one held', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const result = await runWindowDemo({
      config: testConfig(),
      logger: createLogger({ level: 'silent', pretty: false }),
      accounts: 10,
      everyS: 3,
      durationS: 1,
      occurrences: 1,
      out: sink,
    });
    expect(result.problems).toEqual([]);
    expect(result.exitCode).toBe(0);
    const { offBefore, held } = result;
    const [started] = result.started;
    const [ended] = result.ended;
    expect(result.ended).toHaveLength(1);
    expect(started?.switched_off).toHaveLength(8);
    expect(started?.already_off).toEqual([offBefore, held].sort());
    expect(ended?.reactivated).toHaveLength(8);
    expect(ended?.stayed_off).toEqual([offBefore]);
    expect(ended?.still_held).toEqual([{ account_id: held, held_by: ['breaker'] }]);
    const row = (id: string) => result.rows.find((r) => r.id === id);
    // Switched off once before the window (at the API, by the trip), never back on.
    expect(row(offBefore)).toMatchObject({ status: 'inactive', deactivate: 1, activate: 0 });
    expect(row(held)).toMatchObject({ status: 'inactive', deactivate: 1, activate: 0 });
    const normal = result.rows.filter((r) => r.role === 'normal');
    expect(normal).toHaveLength(8);
    for (const r of normal)
      expect(r).toMatchObject({ status: 'active', deactivate: 1, activate: 1 });
    expect(out).toContain('--cron "0 2 * * 0" --duration 2h --tz Europe/Berlin');
    expect(out).toMatch(/next starts: Sun \d{4}-\d\d-\d\d 02:00 CES?T, Sun/);
    expect(out).toMatch(/window\.ended .* reactivated 8, stayed off \[/);
    expect(out).toContain('deactivate 10, activate 8');
    expect(out).toContain('all as expected');
    const redis = new Redis(redisUrl());
    try {
      expect(await redis.keys(`${result.prefix}:*`)).toEqual([]);
    } finally {
      await redis.quit();
    }
  });
});
