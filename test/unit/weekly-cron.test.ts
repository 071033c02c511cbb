/** The tests' weekly window is days away at any hour of the year, across both DST changes. */
import { describe, expect, it } from 'vitest';
import { nextOccurrences } from '../../src/producers/windows/spec.js';
import { berlinWeekdayHour, WEEKLY_HOUR, weeklyCronAwayFromNow } from '../support/weekly-cron.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('weeklyCronAwayFromNow', () => {
  it(
    'is two to four days away and not running, whenever the test runs',
    { timeout: 30_000 },
    () => {
      // Every hour of 2027 (at :50), including Saturday nights and both DST changes.
      const from = Date.parse('2027-01-01T00:50:00Z');
      for (let t = from; t < from + 365 * DAY; t += HOUR) {
        const now = new Date(t);
        const { cron, weekday } = weeklyCronAwayFromNow(now);
        const [next] = nextOccurrences(cron, 'Europe/Berlin', now, 1);
        if (next === undefined) throw new Error('no occurrence');
        expect(next - t, now.toISOString()).toBeGreaterThan(2 * DAY);
        expect(next - t, now.toISOString()).toBeLessThan(4 * DAY);
        // The previous occurrence (a week earlier, give or take a DST hour) ended days ago.
        expect(next - 7 * DAY + HOUR + 2 * HOUR, now.toISOString()).toBeLessThan(t);
        expect(berlinWeekdayHour(new Date(next))).toEqual({ weekday, hour: WEEKLY_HOUR });
      }
    },
  );

  it('reads weekday and hour in Berlin, not UTC', () => {
    // Saturday 23:30Z is Sunday 00:30 in Berlin in winter.
    expect(berlinWeekdayHour(new Date('2026-11-28T23:30:00Z'))).toEqual({ weekday: 0, hour: 0 });
    // Sunday 00:10Z (when the fixed Sunday cron broke CI): Berlin's Sunday 01:xx.
    expect(berlinWeekdayHour(new Date('2026-11-29T00:10:00Z'))).toEqual({ weekday: 0, hour: 1 });
    expect(berlinWeekdayHour(new Date('2027-07-04T00:00:00Z'))).toEqual({ weekday: 0, hour: 2 });
  });
});
