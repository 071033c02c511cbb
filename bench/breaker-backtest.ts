/**
 * `breaker backtest` from a file: a temporary NDJSON file of signals (as `POST /v1/signals`
 * takes them; 200 accounts over a day, one in 50 with bounce spikes), timed through
 *   (a) a bare loop that only reads the file and JSON-parses each line, and
 *   (b) the full backtest (ops/backtest.ts: read, validate each signal as the API does, sort,
 *       replay through the current rules; and once more with a second rule set beside them).
 *
 *   npm run bench:breaker-backtest -- [--signals 2000000] [--accounts 200] [--rounds 1]
 *
 * Goal (issue 22): >= 1,000,000 signals a minute from a file on this 2-core machine. Needs no
 * Redis and no API.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { breakerBacktest } from '../src/ops/backtest.js';
import { positiveOption } from './support.js';

const { values } = parseArgs({
  options: {
    signals: { type: 'string', default: '2000000' },
    accounts: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '1' },
  },
});
const positive = positiveOption('breaker-backtest');
const SIGNALS = positive('signals', values.signals);
const ACCOUNTS = positive('accounts', values.accounts);
const ROUNDS = positive('rounds', values.rounds);
const GOAL_PER_MIN = 1_000_000;
const START = Date.parse('2026-11-01T00:00:00Z');
const SPAN_MS = 86_400_000;

/** Write the signals: mostly delivered, 2 % soft and 1 % hard bounces, one account in 50 spiking. */
async function writeSignals(path: string): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const step = SPAN_MS / SIGNALS;
  let chunk = '';
  for (let i = 0; i < SIGNALS; i++) {
    const account = (i * 7919) % ACCOUNTS;
    const spiking = account % 50 === 0 && i % 100_000 < 20_000;
    const r = (i * 2_654_435_761) % 1000;
    const outcome =
      r < (spiking ? 200 : 10)
        ? '"outcome":"bounced","bounce_type":"Permanent"'
        : r < 30
          ? '"outcome":"bounced","bounce_type":"Transient"'
          : r < 31
            ? '"outcome":"complained"'
            : '"outcome":"delivered"';
    const at = new Date(START + Math.floor(i * step)).toISOString();
    chunk += `{"id":"evt_bench_${i}","account_id":"dprov_bench${account}",${outcome},"occurred_at":"${at}"}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

/** (a): read and JSON-parse every line, nothing else. */
async function bareLoop(path: string): Promise<number> {
  let rest = '';
  let n = 0;
  let sink = 0;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const parsed = JSON.parse(text.slice(start, nl)) as { id: string };
      sink += parsed.id.length;
      n++;
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (sink < 0) console.log(sink);
  return n;
}

const perMin = (n: number, ms: number) => Math.round((n / ms) * 60_000);
const fmt = (n: number) => n.toLocaleString('en-US');

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sdx-backtest-bench-'));
  try {
    const file = join(dir, 'signals.ndjson');
    const candidate = join(dir, 'strict.json');
    await writeFile(
      candidate,
      JSON.stringify({ global: { bounce_rate: 0.05, bounce_min_volume: 50 } }),
    );
    const wrote = await timed(() => writeSignals(file));
    const size = (await stat(file)).size;
    console.log(
      `bench:breaker-backtest: ${fmt(SIGNALS)} signals, ${fmt(ACCOUNTS)} accounts, ${(size / 1e6).toFixed(0)} MB (written in ${(wrote.ms / 1000).toFixed(1)} s)`,
    );
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const rows: { side: string; ms: number; signals: number; trips: string }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const bare = await timed(() => bareLoop(file));
      rows.push({
        side: 'bare loop (read + JSON.parse)',
        ms: bare.ms,
        signals: bare.value,
        trips: '-',
      });
      const one = await timed(() => breakerBacktest(config, { from: 'file', file }));
      rows.push({
        side: 'backtest, 1 rule set',
        ms: one.ms,
        signals: one.value.source.signals,
        trips: one.value.rule_sets.map((s) => `${s.name} ${s.trips}`).join(', '),
      });
      const two = await timed(() =>
        breakerBacktest(config, { from: 'file', file, rules: [`strict=${candidate}`] }),
      );
      rows.push({
        side: 'backtest, 2 rule sets',
        ms: two.ms,
        signals: two.value.source.signals,
        trips: two.value.rule_sets.map((s) => `${s.name} ${s.trips}`).join(', '),
      });
    }
    console.log('\n| run | seconds | signals/min | time / bare loop | trips |');
    console.log('|-----|--------:|------------:|-----------------:|-------|');
    const bareRate = perMin(rows[0]?.signals ?? 0, rows[0]?.ms ?? 1);
    let worst = Infinity;
    for (const r of rows) {
      const rate = perMin(r.signals, r.ms);
      if (r.side.startsWith('backtest')) worst = Math.min(worst, rate);
      console.log(
        `| ${r.side} | ${(r.ms / 1000).toFixed(2)} | ${fmt(rate)} | ${(bareRate / rate).toFixed(2)}x | ${r.trips} |`,
      );
    }
    // The whole bench process, the file held once per backtest (not the bare loop's).
    console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
    console.log(
      `\ngoal >= ${fmt(GOAL_PER_MIN)} signals/min from a file: ${worst >= GOAL_PER_MIN ? 'met' : 'NOT met'} (slowest backtest ${fmt(worst)}/min)`,
    );
    if (worst < GOAL_PER_MIN) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
