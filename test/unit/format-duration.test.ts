/** The CLI's durations for people (`2h`, not `7200 s`): src/cli/format.ts formatDuration. */
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/cli/format.js';

describe('formatDuration', () => {
  it('shows the non-zero units, largest first', () => {
    const cases: [number, string][] = [
      [7_200_000, '2h'],
      [5_400_000, '1h30m'],
      [45_000, '45s'],
      [93_600_000, '1d2h'],
      [3_661_000, '1h1m1s'],
      [60_000, '1m'],
      [86_400_000, '1d'],
      [90_061_000, '1d1h1m1s'],
    ];
    for (const [ms, text] of cases) expect(formatDuration(ms), String(ms)).toBe(text);
  });

  it('rounds to the second; under a second in ms; nothing or less is 0s', () => {
    expect(formatDuration(1_499)).toBe('1s');
    expect(formatDuration(59_500)).toBe('1m');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(-5_000)).toBe('0s');
    expect(formatDuration(Number.NaN)).toBe('0s');
  });
});
