/**
 * Recurring windows in tests that must not depend on the day they run.
 *
 * A fixed cron such as `0 2 * * 0` (Sundays 02:00 Berlin) is running for two hours a week and
 * is minutes away late on Saturday night, so a test that expects it to be upcoming, or to come
 * after a window starting in an hour, fails at those times. This one is always two to four
 * days away and its previous occurrence ended days ago.
 */

const ZONE = 'Europe/Berlin';
const DAY_MS = 86_400_000;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The weekday (0 = Sunday) and hour of `at` in Europe/Berlin. */
export function berlinWeekdayHour(at: Date): { weekday: number; hour: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: ZONE,
    weekday: 'short',
    hour: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const weekday = WEEKDAYS.indexOf(parts.find((p) => p.type === 'weekday')?.value ?? '');
  const hour = Number(parts.find((p) => p.type === 'hour')?.value);
  if (weekday < 0 || !Number.isInteger(hour)) throw new Error(`cannot read ${at.toISOString()}`);
  return { weekday, hour };
}

/** The hour it starts, in Berlin: 04:00 exists exactly once on every day, DST changes too. */
export const WEEKLY_HOUR = 4;

/** `0 4 * * D` with D the Berlin weekday three days from `now`: next start 2-4 days away. */
export function weeklyCronAwayFromNow(now = new Date()): { cron: string; weekday: number } {
  const { weekday } = berlinWeekdayHour(new Date(now.getTime() + 3 * DAY_MS));
  return { cron: `0 ${WEEKLY_HOUR} * * ${weekday}`, weekday };
}
