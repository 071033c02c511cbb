/**
 * The backtest's evaluator at its edges (minimum volume, exactly at the level, the window
 * sliding, dedupe, stale signals, cooldown -> half-open -> closed, warnings once per window), its
 * rule-set files, and the reading of history lines. Its equality with the live breaker is
 * test/integration/breaker-backtest-twin.test.ts.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { UsageError } from '../../src/errors.js';
import {
  Evaluator,
  KIND,
  type EvaluatorSettings,
  type KindIndex,
} from '../../src/producers/breaker/backtest/evaluate.js';
import { lineReader, readLines } from '../../src/producers/breaker/backtest/read-lines.js';
import {
  parseRulesOption,
  ruleSetOf,
  ruleSetsOf,
} from '../../src/producers/breaker/backtest/rule-sets.js';
import { SignalLog } from '../../src/producers/breaker/backtest/signal-log.js';
import { createResolver } from '../../src/producers/breaker/resolve.js';
import type { BreakerRules } from '../../src/producers/breaker/rules.js';

const RULES: BreakerRules = {
  mode: 'act',
  ownMode: false,
  windowS: 900,
  bounceRate: 0.1,
  bounceWarnRate: 0.05,
  bounceMinVolume: 100,
  complaintRate: 0.005,
  complaintWarnRate: 0.001,
  complaintMinVolume: 1000,
};
const NO_COOLDOWN: EvaluatorSettings = {
  cooldownS: 0,
  cooldownMaxS: 86_400,
  halfOpenWatchS: 900,
  dedupeTtlS: 3600,
};
const T0 = Date.parse('2026-12-01T12:00:00Z');

/** An evaluator on one account, fed with `feed(kind, atMs, occurredMs?, id?)`. */
function oneAccount(rules: Partial<BreakerRules> = {}, settings = NO_COOLDOWN) {
  const evaluator = new Evaluator(() => ({ ...RULES, ...rules }), settings);
  const run = evaluator.account('dprov_a');
  let n = 0;
  const feed = (kind: KindIndex, at: number, occurred = at, id = `s${++n}`) =>
    evaluator.step(run, kind, id, occurred, at);
  /** `count` signals of a kind, a second apart from `at`. */
  const many = (kind: KindIndex, count: number, at: number) => {
    const out = [];
    for (let i = 0; i < count; i++) out.push(feed(kind, at + i * 1000));
    return out;
  };
  return { evaluator, run, feed, many };
}

describe('backtest evaluator', () => {
  it('trips at the minimum volume, exactly at the level, not one signal before', () => {
    const { run, many, feed } = oneAccount();
    // 90 delivered, then 9 hard: 9/99 < min volume; the 10th hard: 10/100 = exactly 10 %.
    many(KIND.delivered, 90, T0);
    expect(many(KIND.hard_bounced, 9, T0 + 90_000)).not.toContain('tripped');
    expect(feed(KIND.hard_bounced, T0 + 100_000)).toBe('tripped');
    expect(run.trips).toEqual([
      {
        at: T0 + 100_000,
        reason: 'bounce_rate',
        numbers: {
          window_s: 900,
          delivered: 90,
          bounced: 10,
          hard_bounced: 10,
          complained: 0,
          rejected: 0,
          bounce_rate: 0.1,
          complaint_rate: 0,
        },
      },
    ]);
    // Open: counted, nothing more (no cooldown: open to the end).
    expect(feed(KIND.hard_bounced, T0 + 200_000)).toBe('open');
    expect(run.state).toBe('open');
  });

  it('does not trip just below the level; soft bounces count in the volume only', () => {
    const { run, many } = oneAccount();
    many(KIND.delivered, 80, T0);
    many(KIND.soft_bounced, 11, T0 + 80_000);
    expect(many(KIND.hard_bounced, 10, T0 + 91_000)).not.toContain('tripped'); // 10/101
    expect(run.trips).toEqual([]);
  });

  it('complaints trip over delivered with their own minimum volume; rates to 6 digits', () => {
    const { run, many, feed } = oneAccount({ complaintMinVolume: 3, complaintRate: 1 / 3 });
    many(KIND.delivered, 3, T0);
    expect(feed(KIND.complained, T0 + 5000)).toBe('tripped');
    expect(run.trips[0]?.reason).toBe('complaint_rate');
    expect(run.trips[0]?.numbers.complaint_rate).toBe(0.333333);
  });

  it('slides the window by minutes: counts older than the window are not read', () => {
    // 1 hard bounce in minute 0, then 9 delivered: 1/10 = 10 % trips only while minute 0 is read.
    const inside = oneAccount({ bounceMinVolume: 10 });
    inside.many(KIND.hard_bounced, 1, T0);
    inside.many(KIND.delivered, 9, T0 + 14 * 60_000);
    expect(inside.run.trips).toHaveLength(1);
    const outside = oneAccount({ bounceMinVolume: 10 });
    outside.many(KIND.hard_bounced, 1, T0);
    outside.many(KIND.delivered, 9, T0 + 15 * 60_000);
    expect(outside.run.trips).toEqual([]);
  });

  it('counts a repeated id once, again after the dedupe ttl; a stale signal is not counted nor remembered', () => {
    const { run, feed } = oneAccount();
    expect(feed(KIND.delivered, T0, T0, 'x')).toBe('counted');
    expect(feed(KIND.delivered, T0 + 1000, T0, 'x')).toBe('duplicate');
    expect(feed(KIND.delivered, T0 + 3_600_000, T0 + 3_600_000, 'x')).toBe('counted');
    // Older than the window before now: stale, and its id stays free.
    const late = T0 + 3_600_000;
    expect(feed(KIND.delivered, late, late - 901_000, 'y')).toBe('stale');
    expect(feed(KIND.delivered, late + 1, late, 'y')).toBe('counted');
    expect({ counted: run.counted, duplicates: run.duplicates, stale: run.stale }).toEqual({
      counted: 3,
      duplicates: 1,
      stale: 1,
    });
  });

  it('a late signal counts in its own minute, never one after now', () => {
    const { run, feed } = oneAccount({ bounceMinVolume: 2, bounceRate: 1, windowS: 60 });
    // Happened 55 s before now (not stale) but in the minute before now's: a 1-minute window
    // does not read it.
    expect(feed(KIND.hard_bounced, T0 + 70_000, T0 + 15_000)).toBe('counted');
    expect(feed(KIND.hard_bounced, T0 + 70_001)).toBe('counted');
    // From the future: counted in now's minute.
    expect(feed(KIND.hard_bounced, T0 + 70_002, T0 + 600_000)).toBe('tripped');
    expect(run.trips[0]?.numbers.hard_bounced).toBe(2);
  });

  it('cooldown: half-open when it runs out (fresh window), doubled by a trip while half-open, closed after the watch', () => {
    const settings = { cooldownS: 60, cooldownMaxS: 100, halfOpenWatchS: 300, dedupeTtlS: 3600 };
    const { run, feed } = oneAccount({ bounceMinVolume: 1, bounceRate: 0.5 }, settings);
    expect(feed(KIND.hard_bounced, T0)).toBe('tripped');
    expect(feed(KIND.delivered, T0 + 59_999)).toBe('open');
    // Half-open at T0+60s: the window starts afresh, so one delivered is 0 %.
    expect(feed(KIND.delivered, T0 + 60_000)).toBe('counted');
    expect(run.state).toBe('half_open');
    // A trip while half-open: cooldown 120 s, capped at 100 s.
    expect(feed(KIND.hard_bounced, T0 + 61_000)).toBe('tripped');
    expect(feed(KIND.hard_bounced, T0 + 160_999)).toBe('open');
    expect(feed(KIND.delivered, T0 + 161_000)).toBe('counted');
    expect(run.state).toBe('half_open');
    // Watched 300 s without a trip: closed; the next trip's cooldown is the base one again.
    expect(feed(KIND.delivered, T0 + 461_000)).toBe('counted');
    expect(run.state).toBe('closed');
    // 2 delivered in the window since half-open: the second hard bounce is 2/4.
    expect(feed(KIND.hard_bounced, T0 + 462_000)).toBe('warned'); // 1/3 over the 5 % warning
    expect(feed(KIND.hard_bounced, T0 + 462_001)).toBe('tripped');
    expect(run.trips.map((t) => t.at - T0)).toEqual([0, 61_000, 462_001]);
    expect(feed(KIND.delivered, T0 + 522_000)).toBe('open');
    expect(feed(KIND.delivered, T0 + 522_001)).toBe('counted'); // half-open after 60 s again
  });

  it('warns at the warning level once per window, then trips at the trip level', () => {
    const { run, many, feed } = oneAccount({ bounceMinVolume: 20, bounceRate: 0.2 });
    many(KIND.delivered, 19, T0);
    expect(feed(KIND.hard_bounced, T0 + 19_000)).toBe('warned'); // 1/20 = 5 %
    expect(feed(KIND.hard_bounced, T0 + 20_000)).toBe('counted'); // 2/21: warned already
    // A window later (minute 0 has left it): 1/20 again, warned again.
    many(KIND.delivered, 19, T0 + 900_000);
    expect(feed(KIND.hard_bounced, T0 + 919_000)).toBe('warned');
    expect(run.warnings.map((w) => w.at - T0)).toEqual([19_000, 919_000]);
    many(KIND.hard_bounced, 30, T0 + 920_000);
    expect(run.trips).toHaveLength(1);
  });

  it('refuses signals out of time order', () => {
    const { feed } = oneAccount();
    feed(KIND.delivered, T0);
    expect(() => feed(KIND.delivered, T0 - 1)).toThrow(/out of time order/);
  });
});

describe('backtest rule sets', () => {
  const config = loadConfig({ LOG_LEVEL: 'silent' });

  it('sets a file over the current global settings; accounts over the file global', () => {
    const set = ruleSetOf(config, 'b', 'b.json', {
      global: { bounce_rate: 0.08, window_s: 600 },
      accounts: { dprov_x: { bounce_min_volume: 50 } },
    });
    expect(set.rules('dprov_other')).toMatchObject({
      bounceRate: 0.08,
      bounceWarnRate: 0.05,
      windowS: 600,
      bounceMinVolume: config.breakerBounceMinVolume,
    });
    expect(set.rules('dprov_x')).toMatchObject({ bounceRate: 0.08, bounceMinVolume: 50 });
  });

  it('names the file and the field of a bad entry', () => {
    const bad = (raw: unknown) => () => ruleSetOf(config, 'b', 'b.json', raw);
    expect(bad({ global: { bounce_rate: 2 } })).toThrow(
      new UsageError('--rules b.json: global.bounce_rate must be <= 1'),
    );
    expect(bad({ global: { bounce_rate: 0.05, bounce_warn_rate: 0.06 } })).toThrow(
      /--rules b.json: global.bounce_warn_rate: must be <= its bounce_rate/,
    );
    expect(bad({ accounts: { dprov_x: { complaint_min_volume: 0 } } })).toThrow(
      /--rules b.json: accounts: dprov_x.complaint_min_volume must be >= 1/,
    );
    expect(bad({ accounts: { nope: {} } })).toThrow(/--rules b.json: accounts: "nope"/);
    expect(bad({ rules: {} })).toThrow(/--rules b.json: \(top\) Unrecognized key/);
  });

  it('reads --rules [name=]path and refuses two sets of one name', async () => {
    expect(parseRulesOption('dir/strict.json')).toEqual({
      name: 'strict',
      path: 'dir/strict.json',
    });
    expect(parseRulesOption('a=x.json')).toEqual({ name: 'a', path: 'x.json' });
    await expect(ruleSetsOf(config, ['current=x.json'])).rejects.toThrow(/named "current"/);
  });
});

describe('backtest history lines', () => {
  it('reads signals and webhook bodies (sender map), and counts what is not a signal by reason', async () => {
    const log = new SignalLog();
    const resolver = createResolver({ senderMap: new Map([['news@example.com', 'dprov_w']]) });
    const at = '2026-12-01T12:00:00Z';
    const lines = [
      JSON.stringify({ id: 's1', account_id: 'dprov_a', outcome: 'delivered', occurred_at: at }),
      '{not json',
      '',
      JSON.stringify({ id: 's2', provider_id: 'dprov_a', outcome: 'opened', occurred_at: at }),
      JSON.stringify({
        id: 'evt_1',
        type: 'message.bounced',
        occurred_at: '2026-12-01T11:59:00Z',
        data: { sender: 'News <news@example.com>', bounce_type: 'Permanent' },
      }),
      JSON.stringify({
        id: 'evt_2',
        type: 'message.delivered',
        occurred_at: at,
        data: { sender: 'x@y.z' },
      }),
      JSON.stringify({ id: 'evt_3', type: 'message.opened', occurred_at: at, data: {} }),
    ];
    // Split inside a line and inside a multi-byte character: read whole.
    const bytes = Buffer.from(`${lines.join('\n')}\n{"é": 1}`);
    const chunks = [
      bytes.subarray(0, 7),
      bytes.subarray(7, bytes.length - 4),
      bytes.subarray(bytes.length - 4),
    ];
    const n = await readLines(Readable.from(chunks), lineReader(log, resolver));
    expect(n).toBe(8);
    expect(log.size).toBe(2);
    expect(log.accounts).toEqual(['dprov_a', 'dprov_w']);
    expect([...log.kind.subarray(0, 2)]).toEqual([KIND.delivered, KIND.hard_bounced]);
    expect([...log.order()]).toEqual([1, 0]); // the webhook happened first
    expect(log.skipReasons()).toEqual(
      [
        { reason: 'not JSON', count: 1, where: ['2'] },
        {
          reason:
            'invalid signal: outcome: must be one of delivered, bounced, complained, rejected',
          count: 1,
          where: ['4'],
        },
        {
          reason: 'webhook account not resolved (sender not in the sender map)',
          count: 1,
          where: ['6'],
        },
        { reason: 'not a signal: webhook type message.opened', count: 1, where: ['7'] },
        {
          reason:
            'invalid signal: id: Invalid input: expected string, received undefined; account_id: Invalid input: expected string, received undefined; outcome: must be one of delivered, bounced, complained, rejected; occurred_at: must be an ISO 8601 date-time; signal: Unrecognized key: "é"',
          count: 1,
          where: ['8'],
        },
      ].sort((a, b) => b.count - a.count),
    );
  });
});
