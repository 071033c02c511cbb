/** The demo (`npm run demo`) end to end, smaller: its numbers must add up. */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/run-demo.js';
import { createLogger } from '../../src/logger.js';
import { redisUrl, testConfig } from '../support/context.js';

describe('demo', () => {
  it('deactivates the good accounts once each, fails exactly the four bad ids, and cleans up', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const result = await runDemo({
      config: testConfig(),
      logger: createLogger({ level: 'silent', pretty: false }),
      accounts: 20,
      out: sink,
    });
    expect(result.total).toBe(25); // 20 good + the shared SES account + 4 bad ids
    expect(result.succeeded).toBe(21);
    expect(result.failed).toBe(4);
    expect(result.failures.map((f) => f.error_code).sort()).toEqual([
      'conflict',
      'not_found',
      'not_found',
      'not_found',
    ]);
    expect(result.sim.executions.total).toBe(21); // faults and retries never ran anything twice
    expect(out).toMatch(/succeeded\s+21/);
    expect(out).toMatch(/failure events \(4\)/);
    const redis = new Redis(redisUrl());
    try {
      expect(await redis.keys(`${result.prefix}:*`)).toEqual([]);
    } finally {
      await redis.quit();
    }
  });
});
