/**
 * The status page's formatters (src/http/status-page/browser/format.ts, pure): times in UTC and
 * labelled so (the CLI prints UTC), durations compact (`2h`, `1h30m`, `45s`, never `7200 s`),
 * relative times built on them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duration, relative, utcTime } from '../../src/http/status-page/browser/format.js';

// A zone away from UTC, so that local time read for UTC shows.
const zone = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'America/New_York';
});
afterAll(() => {
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

describe("the status page's formatters", () => {
  it('shows a time in UTC, with its zone', () => {
    const t = new Date('2026-12-07T21:03:09.500Z');
    expect(utcTime(t)).toBe('2026-12-07 21:03 UTC');
    expect(utcTime(t, true)).toBe('2026-12-07 21:03:09 UTC');
    expect(utcTime(new Date('2027-01-02T03:04:05Z'))).toBe('2027-01-02 03:04 UTC');
    expect(new Date('2027-01-02T03:04:05Z').getHours()).toBe(22); // the zone is in effect
  });

  it('shows durations compactly', () => {
    const s = 1000;
    expect(
      [0, 45 * s, 59.4 * s, 60 * s, 150 * s, 3599 * s, 7200 * s, 5400 * s, 5430 * s].map(duration),
    ).toEqual(['0s', '45s', '59s', '1m', '2m30s', '59m59s', '2h', '1h30m', '1h30m']);
    expect([47 * 3600 * s, 48 * 3600 * s, 76 * 3600 * s, 90 * 86400 * s].map(duration)).toEqual([
      '47h',
      '2d',
      '3d4h',
      '90d',
    ]);
    expect(duration(-7200 * s)).toBe('2h');
  });

  it('says how far a time is, ahead or past', () => {
    expect(relative(3_600_000)).toBe('in 1h');
    expect(relative(-5_400_000)).toBe('1h30m ago');
    expect(relative(-45_000)).toBe('45s ago');
  });
});
