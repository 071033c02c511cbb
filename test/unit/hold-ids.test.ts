/**
 * The hold a deactivation was asked under (store/holds.ts `intentHoldId`, which record-outcome
 * releases when the API answers 404) is the one each producer takes.
 */
import { describe, expect, it } from 'vitest';
import { bulkHoldId } from '../../src/producers/bulk/run.js';
import { MANUAL_HOLD } from '../../src/producers/manual.js';
import { windowHoldId } from '../../src/producers/windows/windows.js';
import { BREAKER_HOLD } from '../../src/store/breaker-trip.js';
import { intentHoldId } from '../../src/store/hold-record.js';

describe('intentHoldId', () => {
  it("names each source's own hold", () => {
    expect(intentHoldId({ source: 'manual' })).toBe(MANUAL_HOLD);
    expect(intentHoldId({ source: 'bulk', sourceRef: 'b1' })).toBe(bulkHoldId('b1'));
    expect(intentHoldId({ source: 'breaker', sourceRef: 't1' })).toBe(BREAKER_HOLD);
    expect(intentHoldId({ source: 'window', sourceRef: 'w1:123' })).toBe(windowHoldId('w1', '123'));
  });
});
