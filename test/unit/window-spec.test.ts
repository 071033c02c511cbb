/** Window specs: every refusal names its field; times, durations, zones and cron in zones. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  nextOccurrences,
  occurrenceId,
  parseDuration,
  parseTime,
  parseWindow,
  type WindowInput,
} from '../../src/producers/windows/spec.js';

const NOW = new Date('2026-11-28T12:00:00Z');
const id = () => 'w-test';
const parse = (input: WindowInput) => parseWindow(input, NOW, id);
const once = { accounts: ['dprov_a'], start: '2026-12-01T01:00:00Z', end: '2026-12-01T03:00:00Z' };

function refusal(input: WindowInput): string {
  try {
    parse(input);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('window specs', () => {
  it('takes a one-off window with offsets, and a recurring one with a zone', () => {
    expect(parse({ ...once, start: '2026-12-01T02:00:00+01:00' })).toEqual({
      id: 'w-test',
      targets: { kind: 'accounts', ids: ['dprov_a'] },
      schedule: {
        kind: 'once',
        startMs: Date.parse('2026-12-01T01:00:00Z'),
        endMs: Date.parse('2026-12-01T03:00:00Z'),
      },
      reason: '',
    });
    const r = parse({
      filter: 'type=smtp',
      cron: '0 2 * * 0',
      duration: '2h',
      tz: 'Europe/Berlin',
    });
    expect(r.schedule).toEqual({
      kind: 'recurring',
      cron: '0 2 * * 0',
      durationMs: 7_200_000,
      tz: 'Europe/Berlin',
    });
    expect(r.targets).toMatchObject({ kind: 'filter', filter: { type: 'smtp' } });
  });

  it('names the field and the rule of every refusal', () => {
    const cases: [WindowInput, RegExp][] = [
      [{ ...once, start: '2026-12-01T01:00:00' }, /^--start: must be an ISO-8601 time with a zone/],
      [{ ...once, end: '2026-02-30T01:00:00Z' }, /^--end: must be an ISO-8601/],
      [{ ...once, end: '2026-12-01T00:59:59Z' }, /^--end: must be after --start/],
      [
        { ...once, start: '2026-11-01T00:00:00Z', end: '2026-11-02T00:00:00Z' },
        /^--end: must be in the future/,
      ],
      [
        { accounts: ['dprov_a'], cron: '0 2 * * 0', duration: '2h', tz: 'Mars/Base' },
        /^--tz: "Mars\/Base" is not a known IANA/,
      ],
      [
        { accounts: ['dprov_a'], cron: '0 2 * * 9', duration: '2h' },
        /^--cron: "0 2 \* \* 9" is not a valid cron/,
      ],
      [{ accounts: ['dprov_a'], cron: '0 2 *', duration: '2h' }, /^--cron: .* 3 fields/],
      [
        { accounts: ['dprov_a'], cron: '0 * * * *', duration: '1h' },
        /^--duration: must be shorter than the time between two occurrences/,
      ],
      [
        { accounts: ['dprov_a'], cron: '0 2 * * 0', duration: '2 hours' },
        /^--duration: must be a duration like/,
      ],
      [{ accounts: ['dprov_a'], cron: '0 2 * * 0', duration: '8d' }, /^--duration: .* at most 7d/],
      [{ accounts: ['dprov_a'], cron: '0 2 * * 0' }, /^--duration: required with --cron/],
      [{ ...once, cron: '0 2 * * 0', duration: '2h' }, /^--start \/ --end: not with --cron/],
      [{ ...once, duration: '2h' }, /^--duration: only with --cron/],
      [{ ...once, tz: 'Europe/Berlin' }, /^--tz: only with --cron/],
      [{ accounts: ['dprov_a'], end: once.end }, /^--start: required/],
      [{ start: once.start, end: once.end }, /^--accounts \/ --filter: give exactly one/],
      [{ ...once, filter: 'type=smtp' }, /^--accounts \/ --filter: give exactly one/],
      [
        { ...once, accounts: ['dprov_a', 'acct_b'] },
        /^--accounts: "acct_b" must be a sending account id/,
      ],
      [{ ...once, accounts: [' ', ''] }, /^--accounts: give at least one/],
      [
        { start: once.start, end: once.end, filter: 'colour=red' },
        /^--filter: "colour" is not a field/,
      ],
      [{ ...once, id: 'has space' }, /^--id: "has space" must be 1\.\.64/],
      [{ ...once, reason: 'x'.repeat(501) }, /^--reason: must be at most 500/],
    ];
    for (const [input, message] of cases)
      expect(refusal(input), JSON.stringify(input)).toMatch(message);
  });

  it('reads durations', () => {
    expect(parseDuration('d', '90m')).toBe(5_400_000);
    expect(parseDuration('d', '1h30m')).toBe(5_400_000);
    expect(parseDuration('d', '45s')).toBe(45_000);
    expect(parseDuration('d', '1d')).toBe(86_400_000);
    expect(() => parseDuration('d', '')).toThrow(UsageError);
    expect(() => parseDuration('d', '0s')).toThrow(UsageError);
    expect(() => parseDuration('d', '30m1h')).toThrow(UsageError);
  });

  it('reads times only with a zone', () => {
    expect(parseTime('t', '2026-12-06T02:00+01:00')).toBe(Date.parse('2026-12-06T01:00:00Z'));
    expect(parseTime('t', '2026-12-06T01:00:00.250Z')).toBe(Date.parse('2026-12-06T01:00:00.250Z'));
    expect(() => parseTime('t', '2026-12-06')).toThrow(/^t: /);
    expect(() => parseTime('t', '1764982800000')).toThrow(UsageError);
  });

  it('computes occurrences in the zone, across daylight saving time', () => {
    // Sundays 02:00 in Berlin: 01:00Z in winter (CET), 00:00Z in summer (CEST).
    const winter = nextOccurrences('0 2 * * 0', 'Europe/Berlin', NOW, 2);
    expect(winter.map((t) => new Date(t).toISOString())).toEqual([
      '2026-11-29T01:00:00.000Z',
      '2026-12-06T01:00:00.000Z',
    ]);
    const summer = nextOccurrences(
      '0 2 * * 0',
      'Europe/Berlin',
      new Date('2026-06-01T00:00:00Z'),
      1,
    );
    expect(new Date(summer[0] ?? 0).toISOString()).toBe('2026-06-07T00:00:00.000Z');
    // A half-hour zone: 02:00 in Kolkata is 20:30Z the day before.
    const kolkata = nextOccurrences('0 2 * * *', 'Asia/Kolkata', NOW, 1);
    expect(new Date(kolkata[0] ?? 0).toISOString()).toBe('2026-11-28T20:30:00.000Z');
  });

  it('names occurrences by their start in UTC', () => {
    expect(occurrenceId(Date.parse('2026-11-29T01:00:00Z'))).toBe('20261129T010000Z');
    expect(occurrenceId(Date.parse('2026-11-29T01:00:00.250Z'))).toBe('20261129T010000.250Z');
  });
});
