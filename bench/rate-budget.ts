/**
 * Rate budget: W worker processes drain N deactivations against the simulator with an enforced
 * fixed-window limit aligned to the clock (default 50 per 1 s), alone and with another client
 * of the same API key calling at a share of the limit. For each way of spending the budget:
 *
 *   pipeline  `sendmux-deactivator worker` (SENDMUX_RATE_LIMIT = the API's limit per minute)
 *   static    a bare BullMQ worker whose own limiter is set to the API's limit (429: retry later)
 *   retry     a bare worker without a limiter that retries each 429 after its Retry-After
 *
 * it prints: budget used = our accepted calls per second ÷ the limit (from the first job done
 * to the last, so worker start-up does not count), our 429s as a share of our calls and, with
 * the other client, that client's 429s as a share of its calls (over the whole run).
 *
 *   npm run bench:rate-budget -- [--jobs 1000] [--limit 50] [--window-ms 1000] [--workers 3]
 *                                [--concurrency 10] [--other 0.2] [--ways pipeline,static,retry]
 *
 * Goals (issue 7): alone, use >= 0.97 with 429s <= 0.5 %; with the other client at 20 % of the
 * limit, our 429s <= 1 %, the other's <= 5 %, our use >= 0.75. Needs Redis at REDIS_URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { openProducer } from '../src/queue/open-producer.js';
import { simAccountId } from '../src/sim/seed.js';
import { dropPrefix } from '../src/store/drop-prefix.js';
import { keysFor } from '../src/store/keys.js';
import { RATE_QUEUE } from './bare-rate-worker.js';

const WAYS = ['pipeline', 'static', 'retry'] as const;
type Way = (typeof WAYS)[number];

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    limit: { type: 'string', default: '50' },
    'window-ms': { type: 'string', default: '1000' },
    workers: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '10' },
    other: { type: 'string', default: '0.2' },
    ways: { type: 'string', default: WAYS.join(',') },
  },
});
function num(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) {
    console.error(`bench:rate-budget: --${name} must be a number >= ${min}`);
    process.exit(2);
  }
  return n;
}
const JOBS = num('jobs', values.jobs, 1);
const LIMIT = num('limit', values.limit, 1);
const WINDOW_MS = num('window-ms', values['window-ms'], 100);
const WORKERS = num('workers', values.workers, 1);
const CONCURRENCY = num('concurrency', values.concurrency, 1);
const OTHER = num('other', values.other, 0);
const ways = values.ways.split(',').map((w) => {
  if (!(WAYS as readonly string[]).includes(w)) {
    console.error(`bench:rate-budget: --ways takes ${WAYS.join(', ')}`);
    process.exit(2);
  }
  return w as Way;
});

const API_KEY = 'smx_root_sim_key';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin/sendmux-deactivator.js');
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function start(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function startSim(): Promise<{ url: string; child: ChildProcess }> {
  const child = start(
    [
      CLI,
      'sim',
      '--port',
      '0',
      '--accounts',
      String(JOBS + 10),
      '--rate-limit',
      String(LIMIT),
      '--rate-window-ms',
      String(WINDOW_MS),
      '--rate-aligned',
    ],
    { ...process.env, LOG_LEVEL: 'warn' },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /SENDMUX_BASE_URL=(\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', () => {
      reject(new Error(`the simulator exited: ${out}`));
    });
  });
  return { url, child };
}

interface SimStats {
  requests: number;
  rateLimited: number;
}
async function simStats(url: string): Promise<SimStats> {
  const origin = new URL(url).origin;
  const res = await fetch(`${origin}/__sim/stats`);
  return (await res.json()) as SimStats;
}

/** Another client of the same key: GETs spread evenly at `perS` per second; counts its 429s. */
function otherClient(url: string, perS: number) {
  const agent = new http.Agent({ keepAlive: true });
  const counts = { calls: 0, refused: 0 };
  const timer = setInterval(() => {
    counts.calls++;
    const req = http.get(
      `${url}/providers/${simAccountId(JOBS + 1)}`,
      { agent, headers: { authorization: `Bearer ${API_KEY}` } },
      (res) => {
        if (res.statusCode === 429) counts.refused++;
        res.resume();
      },
    );
    req.on('error', () => undefined);
  }, 1000 / perS);
  return {
    counts,
    stop() {
      clearInterval(timer);
      agent.destroy();
    },
  };
}

interface Result {
  way: Way;
  other: boolean;
  /** From the first job done to the last. */
  seconds: number;
  /** From spawning the workers to the first job done. */
  startupS: number;
  /** Our accepted calls within `seconds`. */
  oursAcceptedTimed: number;
  ours: number;
  oursRefused: number;
  otherCalls: number;
  otherRefused: number;
}

async function run(way: Way, url: string, withOther: boolean): Promise<Result> {
  const prefix = `{sdx-bench-rate-${way}-${randomUUID().slice(0, 8)}}`;
  const tag = randomUUID().slice(0, 8);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  const perMinute = Math.round((LIMIT * 60_000) / WINDOW_MS);
  const baseEnv = {
    ...process.env,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    SENDMUX_BASE_URL: url,
    SENDMUX_API_KEY: API_KEY,
    WORKER_CONCURRENCY: String(CONCURRENCY),
    LOG_LEVEL: 'warn',
  };
  let queue: Queue;
  let pending: () => Promise<number>;
  let closeProducer: () => Promise<void>;
  if (way === 'pipeline') {
    const producer = openProducer(
      loadConfig({ REDIS_URL, QUEUE_PREFIX: prefix, SENDMUX_RATE_LIMIT: String(perMinute) }),
    );
    await producer.enqueueMany(
      Array.from({ length: JOBS }, (_, i) => ({
        action: 'deactivate' as const,
        accountId: simAccountId(i + 1),
        idempotencyKey: `rate-${tag}-${i}`,
        source: 'bulk' as const,
        sourceRef: 'rate-bench',
      })),
    );
    queue = producer.queue as Queue;
    pending = () => producer.redis.zcard(keysFor(prefix).pending);
    closeProducer = () => producer.close();
  } else {
    queue = new Queue(RATE_QUEUE, { connection: redis, prefix });
    await queue.addBulk(
      Array.from({ length: JOBS }, (_, i) => ({
        name: 'deactivate',
        data: { accountId: simAccountId(i + 1), key: `rate-${tag}-${i}` },
        opts: { attempts: 50, backoff: { type: 'fixed', delay: 1_000 }, removeOnComplete: 1000 },
      })),
    );
    pending = async () => {
      const c = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      return Object.values(c).reduce((a, b) => a + b, 0);
    };
    closeProducer = () => queue.close();
  }
  const other = withOther ? otherClient(url, (OTHER * LIMIT * 1000) / WINDOW_MS) : undefined;
  // Let the other client settle into its pace before our workers start.
  if (other) await sleep(2 * WINDOW_MS);
  const before = await simStats(url);
  const otherBefore = { ...(other?.counts ?? { calls: 0, refused: 0 }) };
  const started = performance.now();
  const workers = Array.from({ length: WORKERS }, () =>
    way === 'pipeline'
      ? start([CLI, 'worker'], { ...baseEnv, SENDMUX_RATE_LIMIT: String(perMinute) })
      : start(['--import', 'tsx', join(ROOT, 'bench/bare-rate-worker.ts')], {
          ...baseEnv,
          RATE_MODE: way,
          RATE_MAX: String(LIMIT),
          RATE_WINDOW_MS: String(WINDOW_MS),
        }),
  );
  try {
    const deadline = Date.now() + Math.max(120_000, (JOBS / LIMIT) * WINDOW_MS * 10);
    // The clock starts when the first job is done: worker start-up is not budget left unused.
    let first: { at: number; stats: SimStats; other: typeof otherBefore } | undefined;
    for (;;) {
      const left = await pending();
      if (left < JOBS && first === undefined) {
        first = {
          at: performance.now(),
          stats: await simStats(url),
          other: { ...(other?.counts ?? { calls: 0, refused: 0 }) },
        };
      }
      if (left === 0) break;
      if (Date.now() > deadline) throw new Error(`${way}: jobs not finished in time`);
      await sleep(20);
    }
    const seconds = (performance.now() - (first?.at ?? started)) / 1000;
    const startupS = ((first?.at ?? started) - started) / 1000;
    const after = await simStats(url);
    const otherCalls = (other?.counts.calls ?? 0) - otherBefore.calls;
    const otherRefused = (other?.counts.refused ?? 0) - otherBefore.refused;
    // Use is measured from the first job done to the last; 429 shares over the whole run.
    const from = first ?? { stats: before, other: otherBefore };
    const otherAfterFirst = (other?.counts.calls ?? 0) - from.other.calls;
    const otherRefusedAfterFirst = (other?.counts.refused ?? 0) - from.other.refused;
    return {
      way,
      other: withOther,
      seconds,
      startupS,
      ours: after.requests - before.requests - otherCalls,
      oursRefused: after.rateLimited - before.rateLimited - otherRefused,
      oursAcceptedTimed:
        after.requests -
        from.stats.requests -
        otherAfterFirst -
        (after.rateLimited - from.stats.rateLimited - otherRefusedAfterFirst),
      otherCalls,
      otherRefused,
    };
  } finally {
    other?.stop();
    await Promise.all(workers.map(stop));
    await closeProducer();
    await dropPrefix(redis, prefix);
    await redis.quit();
  }
}

function row(r: Result): string {
  const use = r.oursAcceptedTimed / r.seconds / ((LIMIT * 1000) / WINDOW_MS);
  const ours429 = r.ours > 0 ? (100 * r.oursRefused) / r.ours : 0;
  const other429 = r.otherCalls > 0 ? (100 * r.otherRefused) / r.otherCalls : NaN;
  const goals = r.other
    ? [ours429 <= 1, other429 <= 5, use >= 0.75]
    : [use >= 0.97, ours429 <= 0.5];
  return `| ${r.way.padEnd(8)} | ${r.other ? `other at ${Math.round(OTHER * 100)} %` : 'alone'.padEnd(11)} | ${r.seconds.toFixed(1)} | ${use.toFixed(2)} | ${ours429.toFixed(1)} % | ${Number.isNaN(other429) ? '-' : `${other429.toFixed(1)} %`} | ${goals.every(Boolean) ? 'ok' : 'NOT MET'} |`;
}

async function main(): Promise<void> {
  console.log(
    `rate-budget: ${JOBS} jobs, limit ${LIMIT} per ${WINDOW_MS} ms (aligned), ${WORKERS} workers x ${CONCURRENCY}, other client at ${Math.round(OTHER * 100)} %, node ${process.version}, ${availableParallelism()} CPUs`,
  );
  const sim = await startSim();
  const results: Result[] = [];
  try {
    for (const way of ways) {
      for (const withOther of [false, true]) {
        const r = await run(way, sim.url, withOther);
        results.push(r);
        console.log(
          `${way} ${withOther ? 'with the other client' : 'alone'}: ${r.seconds.toFixed(1)} s after ${r.startupS.toFixed(1)} s of start-up, our calls ${r.ours} (429: ${r.oursRefused}), other's calls ${r.otherCalls} (429: ${r.otherRefused})`,
        );
      }
    }
  } finally {
    await stop(sim.child);
  }
  console.log('\n| way      | key shared  | s    | use  | our 429s | other 429s | goal |');
  console.log('|----------|-------------|-----:|-----:|---------:|-----------:|------|');
  for (const r of results) console.log(row(r));
  console.log(
    'use = our accepted calls per second / the limit; goals: alone use >= 0.97 and 429s <= 0.5 %; shared: ours <= 1 %, other <= 5 %, use >= 0.75',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
