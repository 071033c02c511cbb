/**
 * Bulk enqueue: N account ids from a file to queued jobs, through the real CLI
 * (`sendmux-deactivator bulk --file`), against a baseline in the same run: a bare script that
 * streams the same file into BullMQ `addBulk` (bench/bare-enqueue.ts), nothing else.
 *
 *   npm run bench:bulk-enqueue -- [--ids 100000] [--rounds 3] [--chunk N] [--baseline-chunk 1000]
 *
 *   --chunk           the pipeline's --chunk-size (default: the CLI's own default)
 *   --baseline-chunk  ids per addBulk of the baseline, one call after the other      1000
 *
 * Each side is its own process (both under tsx, as a checkout runs them), timed from spawn to
 * exit, with its peak RSS (GNU time's %M); each run gets a fresh `{...}` prefix, checked after
 * (every id queued once) and dropped. Rounds alternate which side goes first; medians are
 * printed. Goal (issue 7): ratio (pipeline ids/s ÷ baseline ids/s) >= 0.80, pipeline peak RSS
 * <= 200 MB. The pipeline side runs with `--include-shared`: the shared-account check is one
 * API listing, not what this measures. Needs Redis at REDIS_URL (default redis://127.0.0.1:6379).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { simAccountId } from '../src/sim/seed.js';
import { dropPrefix } from '../src/store/drop-prefix.js';
import { keysFor, QUEUE_NAME } from '../src/store/keys.js';
import { BARE_ENQUEUE_QUEUE } from './bare-enqueue.js';

const { values } = parseArgs({
  options: {
    ids: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    chunk: { type: 'string', default: '' },
    'baseline-chunk': { type: 'string', default: '1000' },
  },
});
const positive = (name: string, raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench:bulk-enqueue: --${name} must be a positive integer`);
    process.exit(2);
  }
  return n;
};
const IDS = positive('ids', values.ids);
const ROUNDS = positive('rounds', values.rounds);
/** The pipeline's chunk size; '' = its default. */
const CHUNK = values.chunk === '' ? undefined : positive('chunk', values.chunk);
const BASELINE_CHUNK = positive('baseline-chunk', values['baseline-chunk']);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
const RSS_GOAL_MB = 200;
const RATIO_GOAL = 0.8;

type Side = 'baseline' | 'pipeline';
interface Sample {
  idsPerS: number;
  seconds: number;
  rssMb: number;
}

/** Run a command to its end under GNU time; resolves with its wall time and peak RSS. */
function timed(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ seconds: number; rssMb: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const m = /maxrss_kb=(\d+)/.exec(err);
      if (code !== 0 || !m?.[1]) {
        reject(new Error(`${args.join(' ')} exited with ${String(code)}:\n${err}`));
        return;
      }
      resolve({ seconds, rssMb: (Number(m[1]) * 1024) / MiB });
    });
  });
}

async function runSide(side: Side, file: string, redis: Redis): Promise<Sample> {
  const prefix = `{sdx-bench-bulk-${side}-${randomUUID().slice(0, 8)}}`;
  const env = { ...process.env, REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' };
  try {
    const args =
      side === 'pipeline'
        ? [
            join(ROOT, 'bin/sendmux-deactivator.js'),
            'bulk',
            '--file',
            file,
            '--include-shared',
            '--batch-id',
            'bench',
            ...(CHUNK === undefined ? [] : ['--chunk-size', String(CHUNK)]),
          ]
        : [
            '--import',
            'tsx',
            join(ROOT, 'bench/bare-enqueue.ts'),
            file,
            prefix,
            String(BASELINE_CHUNK),
          ];
    const { seconds, rssMb } = await timed(args, env);
    // Every id queued, once.
    const queue = side === 'pipeline' ? QUEUE_NAME : BARE_ENQUEUE_QUEUE;
    const waiting = await redis.llen(`${prefix}:${queue}:wait`);
    if (waiting !== IDS) throw new Error(`${side}: ${waiting} jobs waiting, expected ${IDS}`);
    if (side === 'pipeline') {
      const total = Number(await redis.hget(keysFor(prefix).batch('bench'), 'total'));
      if (total !== IDS) throw new Error(`pipeline: batch total ${total}, expected ${IDS}`);
    }
    return { idsPerS: IDS / seconds, seconds, rssMb };
  } finally {
    await dropPrefix(redis, prefix);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sdx-bench-bulk-'));
  const file = join(dir, 'ids.txt');
  writeFileSync(file, `${Array.from({ length: IDS }, (_, i) => simAccountId(i + 1)).join('\n')}\n`);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  console.log(
    `bulk-enqueue: ${IDS} ids from a file, pipeline chunks of ${CHUNK ?? 'its default'}, baseline chunks of ${BASELINE_CHUNK} (addBulk one after the other), ${ROUNDS} round(s), node ${process.version}, ${availableParallelism()} CPUs, redis ${REDIS_URL}`,
  );
  try {
    const samples: Record<Side, Sample[]> = { baseline: [], pipeline: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Side[] = round % 2 === 1 ? ['baseline', 'pipeline'] : ['pipeline', 'baseline'];
      const got: Partial<Record<Side, Sample>> = {};
      for (const side of order) got[side] = await runSide(side, file, redis);
      const b = got.baseline;
      const p = got.pipeline;
      if (!b || !p) throw new Error('unreachable');
      samples.baseline.push(b);
      samples.pipeline.push(p);
      console.log(
        `round ${round}/${ROUNDS} (${order[0]} first): baseline ${Math.round(b.idsPerS)} ids/s (${b.seconds.toFixed(1)} s, ${Math.round(b.rssMb)} MiB), pipeline ${Math.round(p.idsPerS)} ids/s (${p.seconds.toFixed(1)} s, ${Math.round(p.rssMb)} MiB), ratio ${(p.idsPerS / b.idsPerS).toFixed(2)}`,
      );
    }
    const b = median(samples.baseline.map((s) => s.idsPerS));
    const p = median(samples.pipeline.map((s) => s.idsPerS));
    const ratio = p / b;
    const rss = Math.max(...samples.pipeline.map((s) => s.rssMb));
    const rssBase = Math.max(...samples.baseline.map((s) => s.rssMb));
    console.log(`\nmedian of ${ROUNDS} round(s), ${IDS} ids; ratio = pipeline / baseline`);
    console.log('| baseline ids/s | pipeline ids/s | ratio | goal | peak RSS MiB (b / p) | goal |');
    console.log('|---------------:|---------------:|------:|------|----------------------|------|');
    console.log(
      `| ${Math.round(b)} | ${Math.round(p)} | ${ratio.toFixed(2)} | ${ratio >= RATIO_GOAL ? 'ok' : 'BELOW'} (>= ${RATIO_GOAL.toFixed(2)}) | ${Math.round(rssBase)} / ${Math.round(rss)} | ${rss <= RSS_GOAL_MB ? 'ok' : 'ABOVE'} (<= ${RSS_GOAL_MB}) |`,
    );
    console.log('times run from spawn to exit (process start-up included, both sides under tsx)');
  } finally {
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
