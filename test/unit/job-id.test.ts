import { describe, expect, it } from 'vitest';
import { jobIdFor, parseJobId } from '../../src/queue/job-id.js';

describe('job ids from idempotency keys and sequence numbers', () => {
  it.each([
    'simple',
    '12345',
    'a:b:c',
    'with%25percent',
    '%3A',
    'at@sign@',
    'x'.repeat(255),
    'bulk-2026:dprov_x',
  ])('round-trips %s without ":" and never all digits', (key) => {
    const id = jobIdFor(key, 42);
    expect(id).not.toContain(':');
    expect(`${parseInt(id, 10)}`).not.toBe(id);
    expect(parseJobId(id)).toEqual({ idempotencyKey: key, seq: 42 });
  });

  it('is injective where a naive escape would collide', () => {
    expect(jobIdFor('a:b', 1)).not.toBe(jobIdFor('a%3Ab', 1));
    expect(jobIdFor('1', 1)).not.toBe(jobIdFor('k-1', 1));
    expect(jobIdFor('a@2', 1)).not.toBe(jobIdFor('a', 21));
  });

  it('gives a key bound again (a new sequence number) a new job id', () => {
    expect(jobIdFor('same-key', 1)).not.toBe(jobIdFor('same-key', 2));
  });

  it('does not truncate long keys', () => {
    expect(jobIdFor('k'.repeat(255), 7)).toBe(`k-${'k'.repeat(255)}@7`);
  });

  it('refuses ids it did not make', () => {
    expect(() => parseJobId('123')).toThrow(/not a key-derived job id/);
    expect(() => parseJobId('k-nokey')).toThrow(/not a key-derived job id/);
  });
});
