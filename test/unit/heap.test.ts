/** The bulk command's heap policy never overrides a heap growth given to Node by the user. */
import { afterEach, describe, expect, it } from 'vitest';
import { limitHeapGrowth } from '../../src/cli/heap.js';

const saved = process.env.NODE_OPTIONS;
afterEach(() => {
  if (saved === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = saved;
});

describe('limitHeapGrowth', () => {
  // 0 is V8's own default policy: setting it here leaves this test process as it was.
  it('sets the flag when Node was given none', () => {
    process.env.NODE_OPTIONS = '--max-old-space-size=4096';
    expect(limitHeapGrowth(0)).toBe(true);
  });

  it('leaves a growth given in NODE_OPTIONS alone, in either spelling', () => {
    process.env.NODE_OPTIONS = '--heap-growing-percent=80';
    expect(limitHeapGrowth(0)).toBe(false);
    process.env.NODE_OPTIONS = '--enable-source-maps --heap_growing_percent=80';
    expect(limitHeapGrowth(0)).toBe(false);
  });
});
