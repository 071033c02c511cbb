import { describe, expect, it } from 'vitest';
import { jobIdForKey, keyForJobId } from '../../src/actions/job-id.js';

describe('job ids from idempotency keys', () => {
  it.each([
    'simple',
    '12345',
    'a:b:c',
    'with%25percent',
    '%3A',
    'x'.repeat(255),
    'bulk-2026:dprov_x',
  ])('round-trips %s without ":" and never all digits', (key) => {
    const id = jobIdForKey(key);
    expect(id).not.toContain(':');
    expect(`${parseInt(id, 10)}`).not.toBe(id);
    expect(keyForJobId(id)).toBe(key);
  });

  it('is injective where a naive escape would collide', () => {
    expect(jobIdForKey('a:b')).not.toBe(jobIdForKey('a%3Ab'));
    expect(jobIdForKey('1')).not.toBe(jobIdForKey('k-1'));
  });

  it('does not truncate long keys', () => {
    expect(jobIdForKey('k'.repeat(255)).length).toBe(257);
  });
});
