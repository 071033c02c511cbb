/**
 * Bulk enqueue: N account ids from a file to queued jobs, through the real CLI
 * (`sendmux-deactivator bulk --file`), against a baseline in the same run: a bare script that
 * streams the same file into BullMQ `addBulk` (bench/bare-enqueue.ts), nothing else.
 *
 *   npm run bench:bulk-enqueue -- [--ids 100000] [--rounds 3] [--runtime both|dist|tsx]
 *                                 [--chunk N] [--baseline-chunk 1000]
 *
 *   --runtime         dist: compiled JavaScript under plain node, what the npm package and the
 *                     Docker image run (the pipeline is `npm run build` first; the baseline is
 *                     transpiled to dist/bench/); tsx: the TypeScript sources through tsx, as a
 *                     checkout runs them (tsx alone adds ~40 MB of RSS to any process)     both
 *   --chunk           the pipeline's --chunk-size (default: the CLI's own default)
 *   --baseline-chunk  ids per addBulk of the baseline, one call after the other      1000
 *
 * Each side is its own process, both sides under the same runtime, timed from spawn to exit,
 * with its peak RSS (GNU time's %M); each run gets a fresh `{...}` prefix, checked after (every
 * id queued once) and dropped. Rounds alternate which side goes first; medians are printed (the
 * ratio is the median of each round's ratio: the sides of a round run back to back).
 * Goal (issue 7): ratio (pipeline ids/s ÷ baseline ids/s) >= 0.80, pipeline peak RSS <= 200
 * MB. The pipeline side runs with `--include-shared` and without SENDMUX_API_KEY: the
 * shared-account check and the holds' `before` states are API reads, not what this measures
 * (the holds themselves are taken, one step per chunk, as in any deactivate run). Needs
 * Redis at REDIS_URL (default redis://127.0.0.1:6379).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import ts from 'typescript';
import { simAccountId } from '../src/sim/seed.js';
import { dropPrefix } from '../src/store/drop-prefix.js';
import { keysFor, QUEUE_NAME } from '../src/store/keys.js';
import { BARE_ENQUEUE_QUEUE } from './bare-enqueue.js';
import { positiveOption } from './support.js';

const { values } = parseArgs({
  options: {
    ids: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    chunk: { type: 'string', default: '' },
    'baseline-chunk': { type: 'string', default: '1000' },
    runtime: { type: 'string', default: 'both' },
  },
});
const positive = positiveOption('bulk-enqueue');
const IDS = positive('ids', values.ids);
const ROUNDS = positive('rounds', values.rounds);
/** The pipeline's chunk size; '' = its default. */
const CHUNK = values.chunk === '' ? undefined : positive('chunk', values.chunk);
const BASELINE_CHUNK = positive('baseline-chunk', values['baseline-chunk']);
type Runtime = 'dist' | 'tsx';
const RUNTIMES: Runtime[] =
  values.runtime === 'both' ? ['dist', 'tsx'] : values.runtime === 'dist' ? ['dist'] : ['tsx'];
if (!['both', 'dist', 'tsx'].includes(values.runtime)) {
  console.error('bench:bulk-enqueue: --runtime must be both, dist or tsx');
  process.exit(2);
}
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

/** The command line of one side under one runtime (node's arguments). */
function sideArgs(side: Side, runtime: Runtime, file: string, prefix: string): string[] {
  if (side === 'pipeline') {
    const cli =
      runtime === 'dist'
        ? [join(ROOT, 'dist/src/cli/main.js')]
        : [join(ROOT, 'bin/sendmux-deactivator.js')]; // a checkout: the sources through tsx
    return [
      ...cli,
      'bulk',
      '--file',
      file,
      '--include-shared',
      '--batch-id',
      'bench',
      ...(CHUNK === undefined ? [] : ['--chunk-size', String(CHUNK)]),
    ];
  }
  const bare =
    runtime === 'dist' ? [BARE_BUILT] : ['--import', 'tsx', join(ROOT, 'bench/bare-enqueue.ts')];
  return [...bare, file, prefix, String(BASELINE_CHUNK)];
}

const BARE_BUILT = join(ROOT, 'dist/bench/bare-enqueue.js');

/** Compile both sides for the dist runtime: the package's build, and the baseline alone. */
function buildDist(): void {
  const tsc = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (tsc.status !== 0) throw new Error('npm run build failed');
  const source = readFileSync(join(ROOT, 'bench/bare-enqueue.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  mkdirSync(dirname(BARE_BUILT), { recursive: true });
  writeFileSync(BARE_BUILT, outputText);
}

async function runSide(side: Side, runtime: Runtime, file: string, redis: Redis): Promise<Sample> {
  const prefix = `{sdx-bench-bulk-${side}-${randomUUID().slice(0, 8)}}`;
  // No API key: the run reads nothing from the API (with --include-shared and no key, its holds'
  // `before` is unknown), so only the enqueueing is measured, never a listing of a real team.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'warn',
  };
  delete env.SENDMUX_API_KEY;
  try {
    const args = sideArgs(side, runtime, file, prefix);
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
    `bulk-enqueue: ${IDS} ids from a file, runtime ${RUNTIMES.join(' then ')}, pipeline chunks of ${CHUNK ?? 'its default'}, baseline chunks of ${BASELINE_CHUNK} (addBulk one after the other), ${ROUNDS} round(s), node ${process.version}, ${availableParallelism()} CPUs, redis ${REDIS_URL}`,
  );
  try {
    if (RUNTIMES.includes('dist')) buildDist();
    const rows: string[] = [];
    for (const runtime of RUNTIMES) {
      const samples: Record<Side, Sample[]> = { baseline: [], pipeline: [] };
      for (let round = 1; round <= ROUNDS; round++) {
        const order: Side[] = round % 2 === 1 ? ['baseline', 'pipeline'] : ['pipeline', 'baseline'];
        const got: Partial<Record<Side, Sample>> = {};
        for (const side of order) got[side] = await runSide(side, runtime, file, redis);
        const b = got.baseline;
        const p = got.pipeline;
        if (!b || !p) throw new Error('unreachable');
        samples.baseline.push(b);
        samples.pipeline.push(p);
        console.log(
          `${runtime} round ${round}/${ROUNDS} (${order[0]} first): baseline ${Math.round(b.idsPerS)} ids/s (${b.seconds.toFixed(1)} s, ${Math.round(b.rssMb)} MiB), pipeline ${Math.round(p.idsPerS)} ids/s (${p.seconds.toFixed(1)} s, ${Math.round(p.rssMb)} MiB), ratio ${(p.idsPerS / b.idsPerS).toFixed(2)}`,
        );
      }
      const b = median(samples.baseline.map((s) => s.idsPerS));
      const p = median(samples.pipeline.map((s) => s.idsPerS));
      // The median of each round's ratio: the two sides of a round ran back to back, so a slow
      // spell of the machine weighs on both (on this 2-core box one side's time varies up to 1.6x).
      const ratio = median(
        samples.pipeline.map((s, i) => s.idsPerS / (samples.baseline[i]?.idsPerS ?? NaN)),
      );
      const rss = Math.max(...samples.pipeline.map((s) => s.rssMb));
      const rssBase = Math.max(...samples.baseline.map((s) => s.rssMb));
      rows.push(
        `| ${runtime} | ${Math.round(b)} | ${Math.round(p)} | ${ratio.toFixed(2)} | ${ratio >= RATIO_GOAL ? 'ok' : 'BELOW'} (>= ${RATIO_GOAL.toFixed(2)}) | ${Math.round(rssBase)} / ${Math.round(rss)} | ${rss <= RSS_GOAL_MB ? 'ok' : 'ABOVE'} (<= ${RSS_GOAL_MB}) |`,
      );
    }
    console.log(
      `\nmedian of ${ROUNDS} round(s), ${IDS} ids; ratio = median of the rounds' pipeline / baseline; peak RSS = the highest of the rounds`,
    );
    console.log(
      '| runtime | baseline ids/s | pipeline ids/s | ratio | goal | peak RSS MiB (b / p) | goal |',
    );
    console.log(
      '|---------|---------------:|---------------:|------:|------|----------------------|------|',
    );
    for (const row of rows) console.log(row);
    console.log(
      'times run from spawn to exit (process start-up included); both sides under the same runtime',
    );
  } finally {
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
