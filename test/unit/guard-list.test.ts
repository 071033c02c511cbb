/**
 * The guard list stays true without running its mutations (`npm run test:guards` does that, by
 * hand): every entry names a file that holds its guard text exactly once, a mutation that
 * differs from it, and test files that exist.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { staleness } from '../guards/guard.js';
import { GUARDS } from '../guards/guards.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('the guard list', () => {
  it('has no stale entry (a guard text moved or edited, a test file renamed)', () => {
    expect(Object.fromEntries(staleness(GUARDS, ROOT))).toEqual({});
  });

  it('finds a stale one when a guard text is not in its file', () => {
    const [first] = GUARDS;
    if (!first) throw new Error('empty guard list');
    const moved = { ...first, file: 'src/model.ts' };
    expect(staleness([moved], ROOT).get(first.id)).toMatch(/occurs 0 times in src\/model.ts/);
  });
});
