/**
 * Throughput: N deactivations through the full pipeline (producer -> BullMQ -> worker -> got ->
 * API -> status + events) against a baseline, a bare BullMQ + got worker that only makes the
 * HTTP call (bench/bare-worker.ts), in the same run, against the same API process.
 *
 *   npm run bench:throughput -- [--jobs 20000] [--concurrency 50] [--rounds 3]
 *                               [--target stub|sim|both] [--mode inproc|cli|both]
 *   npm run bench:throughput:all -- [...]   the same with --target both --mode both
 *   npm run bench:stub -- [--port 4020]     the stub API alone (for manual runs)
 *
 *   --jobs         jobs per timed run (a warm-up runs a tenth, at least 200)       20000
 *   --concurrency  jobs one worker runs at once (WORKER_CONCURRENCY), both sides   50
 *   --rounds       timed rounds per target x mode; the order alternates per round  3
 *   --target       stub: bench/stub-server.ts, canned answers that cost almost
 *                  nothing, so the ratio shows the pipeline's own cost;
 *                  sim: the project's simulator (`sendmux-deactivator sim`, no rate
 *                  limit, no faults); both: one after the other                    both
 *   --mode         inproc: both workers run inside this process (startWorker; logs
 *                  silent); cli: each worker is its own process, the way users run
 *                  it: `node bin/sendmux-deactivator.js worker` (LOG_LEVEL info,
 *                  stdout to a file) against `node --import tsx bench/bare-worker.ts`;
 *                  both: one after the other                                       inproc
 *   --log-level    LOG_LEVEL of the pipeline's worker process in `cli` (info, the
 *                  default users run with, logs a line per job; `inproc` is silent) info
 *
 * The API (stub or simulator) always runs in its own process; the stub's answers are checked
 * against the contract (providerItemResponseSchema) before anything is measured. Jobs are
 * enqueued before the clock starts, under a fresh `{...}` prefix per run. `inproc` times from
 * creating the worker to its last `completed` event; `cli` from spawning the worker process
 * until Redis says every job is finished (polled every 50 ms: no job waiting, active or
 * delayed and, for the pipeline, no intent left in `<prefix>:pending`), then SIGTERMs it.
 *
 * Prints one line per round, then one row per target x mode: median jobs/s of each side, the
 * ratio pipeline/baseline (goal >= 1.00 against the stub, never below 0.80) and peak RSS (in
 * `inproc` this process, both sides together; in `cli` each worker process's VmHWM). Needs
 * Redis at REDIS_URL (default redis://127.0.0.1:6379).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import got from 'got';
import { Redis } from 'ioredis';
import { loadConfig, LOG_LEVELS, SETTINGS } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { openProducer } from '../src/queue/open-producer.js';
import { safeRedisUrl } from '../src/redis/connect.js';
import { parseRateLimit } from '../src/sendmux/rate-limit-headers.js';
import { providerItemResponseSchema } from '../src/sendmux/schemas.js';
import { simAccountId } from '../src/sim/seed.js';
import { dropPrefix } from '../src/store/drop-prefix.js';
import { keysFor } from '../src/store/keys.js';
import { startWorker } from '../src/worker/worker.js';
import { BARE_QUEUE, startBareWorker, type BareJobData } from './bare-worker.js';

type Target = 'stub' | 'sim';
type Mode = 'inproc' | 'cli';

function usage(message: string): never {
  console.error(`bench:throughput: ${message} (options: see the header of bench/throughput.ts)`);
  process.exit(2);
}

function parseOptions() {
  try {
    return parseArgs({
      options: {
        jobs: { type: 'string', default: '20000' },
        concurrency: { type: 'string', default: '50' },
        rounds: { type: 'string', default: '3' },
        target: { type: 'string', default: 'both' },
        mode: { type: 'string', default: 'inproc' },
        'log-level': { type: 'string', default: 'info' },
      },
    }).values;
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err));
  }
}
const values = parseOptions();

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer`);
  return n;
}
function choice<T extends string>(
  name: string,
  raw: string,
  allowed: readonly T[],
  orBoth = true,
): T[] {
  if (orBoth && raw === 'both') return [...allowed];
  const found = allowed.find((a) => a === raw);
  if (found === undefined) {
    usage(`--${name} must be ${[...allowed, ...(orBoth ? ['both'] : [])].join('|')}`);
  }
  return [found];
}

const JOBS = positiveInt('jobs', values.jobs);
const CONCURRENCY = positiveInt('concurrency', values.concurrency);
if (CONCURRENCY > 1000) usage('--concurrency must be <= 1000 (WORKER_CONCURRENCY)');
const ROUNDS = positiveInt('rounds', values.rounds);
const TARGETS = choice<Target>('target', values.target, ['stub', 'sim']);
const MODES = choice<Mode>('mode', values.mode, ['inproc', 'cli']);
const LOG_LEVEL = choice('log-level', values['log-level'], LOG_LEVELS, false)[0] ?? 'info';
const WARMUP_JOBS = Math.max(200, Math.floor(JOBS / 10));

const API_KEY = 'smx_root_sim_key';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI_BIN = join(ROOT, 'bin/sendmux-deactivator.js');
const BARE_SCRIPT = join(ROOT, 'bench/bare-worker.ts');
const STUB_SCRIPT = join(ROOT, 'bench/stub-server.ts');
/** How often `cli` runs ask Redis whether the jobs are done. */
const POLL_MS = 50;
/** A `cli` run fails when no job finishes for this long. */
const STALL_MS = 60_000;
/** How long a worker process may take to exit after SIGTERM before it is killed. */
const EXIT_TIMEOUT_MS = 30_000;
const MiB = 1024 * 1024;

// --- processes ---------------------------------------------------------------------------

interface Child {
  proc: ChildProcess;
  exit: { code: number | null; signal: string | null } | undefined;
  exited: Promise<void>;
  stderr(): string;
}

/** Every child still running, killed if this process ends early. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function startChild(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdout: 'pipe' | number },
): Child {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', options.stdout, 'pipe'],
  });
  children.add(proc);
  let err = '';
  proc.stderr?.on('data', (b: Buffer) => {
    err = (err + b.toString()).slice(-4000);
  });
  proc.on('error', (e) => {
    err += `\n${e.message}`;
  });
  const child: Child = {
    proc,
    exit: undefined,
    exited: new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        child.exit = { code, signal };
        children.delete(proc);
        resolve();
      });
    }),
    stderr: () => err,
  };
  return child;
}

/** SIGTERM, then wait for the exit (SIGKILL after EXIT_TIMEOUT_MS). Returns the exit code. */
async function stopChild(child: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<string> {
  if (child.exit === undefined) {
    child.proc.kill(signal);
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    await child.exited;
    clearTimeout(timer);
  }
  const e = child.exit;
  return e?.signal ? `signal ${e.signal}` : `code ${String(e?.code)}`;
}

/** The peak resident set size of a running process (Linux: VmHWM), in bytes. */
function maxRss(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

interface Api {
  target: Target;
  url: string;
  stop(): Promise<void>;
}

/** Start the API (stub or simulator) in its own process; resolves with its base URL. */
async function startApi(target: Target): Promise<Api> {
  const args =
    target === 'stub'
      ? ['--import', 'tsx', STUB_SCRIPT, '--port', '0']
      : [CLI_BIN, 'sim', '--port', '0', '--accounts', String(JOBS), '--rate-limit', '0'];
  const child = startChild(args, { stdout: 'pipe' });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.proc.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /(?:SENDMUX|STUB)_BASE_URL=(\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    void child.exited.then(() => {
      reject(new Error(`${target} exited with ${String(child.exit?.code)}: ${child.stderr()}`));
    });
  });
  return {
    target,
    url,
    stop: async () => {
      await stopChild(child, target === 'sim' ? 'SIGINT' : 'SIGTERM');
    },
  };
}

/**
 * One answer per route of the stub, parsed with the client's own schema: a stub that drifted
 * from the contract would measure a client path that real answers never take.
 */
async function checkStubContract(url: string): Promise<void> {
  const id = simAccountId(1);
  const routes = [
    { method: 'POST', path: `providers/${id}/deactivate`, status: 'inactive' },
    { method: 'POST', path: `providers/${id}/activate`, status: 'active' },
    { method: 'GET', path: `providers/${id}`, status: 'active' },
  ] as const;
  for (const route of routes) {
    const res = await got(`${url}/${route.path}`, {
      method: route.method,
      headers: { authorization: `Bearer ${API_KEY}`, 'idempotency-key': 'bench-contract-check' },
      throwHttpErrors: false,
      retry: { limit: 0 },
      responseType: 'text',
    });
    const problems: string[] = [];
    if (res.statusCode !== 200) problems.push(`HTTP ${res.statusCode}, expected 200`);
    if (!String(res.headers['content-type']).startsWith('application/json')) {
      problems.push(`content-type ${String(res.headers['content-type'])}`);
    }
    if (parseRateLimit(res.headers) === undefined) {
      problems.push('X-RateLimit-Limit/Remaining/Reset missing or invalid');
    }
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      problems.push('body is not JSON');
    }
    const parsed = providerItemResponseSchema.safeParse(json);
    if (!parsed.success) {
      for (const i of parsed.error.issues) problems.push(`${i.path.join('.')}: ${i.message}`);
    } else {
      const { data, meta } = parsed.data;
      if (data.id !== id) problems.push(`data.id ${data.id}, expected ${id}`);
      if (data.status !== route.status)
        problems.push(`status ${data.status}, expected ${route.status}`);
      if (data.is_active !== (route.status === 'active'))
        problems.push('is_active contradicts status');
      if (res.headers['x-request-id'] !== meta.request_id) {
        problems.push('X-Request-Id differs from meta.request_id');
      }
    }
    if (problems.length > 0) {
      throw new Error(
        `the stub API does not answer by the contract (ProviderItem envelope, providerItemResponseSchema):\n` +
          `  ${route.method} ${url}/${route.path}\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
          `fix bench/stub-server.ts before benchmarking against it`,
      );
    }
  }
}

// --- runs --------------------------------------------------------------------------------

interface Sample {
  jobsPerS: number;
  /** cli: ms from spawn until the first job was seen finished (process start-up). */
  firstMs?: number;
  /** cli: jobs/s from the first job seen finished to the last (start-up left out). */
  afterFirstJobsPerS?: number;
  /** cli: the worker process's peak RSS. */
  rss?: number;
  /** cli: lines the worker wrote to stdout. */
  logLines?: number;
}

type Side = 'baseline' | 'pipeline';

/** The worker's environment, as a user would set it (both sides, both modes). */
function workerEnv(prefix: string, url: string): Record<string, string> {
  return {
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    SENDMUX_BASE_URL: url,
    SENDMUX_API_KEY: API_KEY,
    SENDMUX_RATE_LIMIT: '0',
    WORKER_CONCURRENCY: String(CONCURRENCY),
  };
}

/** This process's environment without any of the project's settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const settings = new Set(Object.values(SETTINGS).map((s) => s.env));
  for (const [k, v] of Object.entries(process.env)) if (!settings.has(k)) env[k] = v;
  return env;
}

const freshPrefix = (side: Side) => `{sdx-bench-${side}-${randomUUID().slice(0, 8)}}`;

/** Enqueue `n` deactivations; returns what the run needs to watch and clean up. */
async function enqueue(side: Side, url: string, n: number) {
  const prefix = freshPrefix(side);
  // Unique keys per run, so the simulator never answers from its idempotency cache.
  const tag = randomUUID().slice(0, 8);
  if (side === 'pipeline') {
    const config = loadConfig({ ...workerEnv(prefix, url), LOG_LEVEL: 'silent' });
    const producer = openProducer(config);
    await producer.enqueueMany(
      Array.from({ length: n }, (_, i) => ({
        action: 'deactivate' as const,
        accountId: simAccountId(i + 1),
        idempotencyKey: `bench-${tag}-${i}`,
        source: 'manual' as const,
        reason: 'benchmark',
      })),
      { chunkSize: 1000 },
    );
    const pendingKey = keysFor(prefix).pending;
    const pending = () => producer.redis.zcard(pendingKey);
    if ((await pending()) !== n) throw new Error(`expected ${n} pending intents after enqueue`);
    return {
      prefix,
      config,
      queue: producer.queue as Queue,
      redis: producer.redis,
      pending,
      close: async () => {
        await dropPrefix(producer.redis, prefix);
        await producer.close();
      },
    };
  }
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue<BareJobData>(BARE_QUEUE, { connection: redis, prefix });
  for (let i = 0; i < n; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
        name: 'deactivate',
        data: { accountId: simAccountId(i + j + 1), key: `bench-${tag}-${i + j}` },
        opts: {
          jobId: `k-bench-${tag}-${i + j}`,
          removeOnComplete: { count: 1000 },
          attempts: 3,
        },
      })),
    );
  }
  return {
    prefix,
    config: undefined,
    queue: queue as Queue,
    redis,
    pending: () => Promise.resolve(0),
    close: async () => {
      await queue.close();
      await dropPrefix(redis, prefix);
      await redis.quit();
    },
  };
}

type Enqueued = Awaited<ReturnType<typeof enqueue>>;

/** Jobs not finished yet: waiting, active, delayed (and, for the pipeline, intents pending). */
async function remaining(e: Enqueued): Promise<number> {
  const c = await e.queue.getJobCounts(
    'wait',
    'active',
    'delayed',
    'prioritized',
    'waiting-children',
  );
  const jobs = Object.values(c).reduce((a, b) => a + b, 0);
  return Math.max(jobs, await e.pending());
}

/** After a run: nothing failed, nothing left, every account recorded (pipeline). */
async function verify(side: Side, e: Enqueued, n: number): Promise<void> {
  const failed = await e.queue.getFailedCount();
  const left = await remaining(e);
  const problems: string[] = [];
  if (failed > 0) problems.push(`${failed} failed jobs`);
  if (left > 0) problems.push(`${left} jobs/intents not finished`);
  if (side === 'pipeline') {
    const recorded = await e.redis.zcard(keysFor(e.prefix).statusIndex);
    if (recorded !== n) problems.push(`${recorded} account statuses recorded, expected ${n}`);
  }
  if (problems.length > 0) throw new Error(`${side} run went wrong: ${problems.join(', ')}`);
}

/** Resolves when `count` jobs completed on `worker`. */
function completions(
  worker: { on(event: 'completed', fn: () => void): unknown },
  count: number,
): Promise<void> {
  let done = 0;
  return new Promise((resolve) => {
    worker.on('completed', () => {
      if (++done === count) resolve();
    });
  });
}

async function runInproc(side: Side, api: Api, n: number): Promise<Sample> {
  const e = await enqueue(side, api.url, n);
  try {
    const started = performance.now();
    let seconds: number;
    if (side === 'pipeline') {
      if (!e.config) throw new Error('unreachable: the pipeline has a config');
      const w = await startWorker({
        config: e.config,
        logger: createLogger({ level: 'silent', pretty: false }),
        autorun: false,
      });
      const finished = completions(w.worker, n);
      void w.worker.run();
      await finished;
      seconds = (performance.now() - started) / 1000;
      const { forced } = await w.close();
      if (forced) console.warn('warning: the pipeline worker needed a forced close');
    } else {
      const w = startBareWorker({
        redisUrl: REDIS_URL,
        prefix: e.prefix,
        baseUrl: api.url,
        apiKey: API_KEY,
        concurrency: CONCURRENCY,
        autorun: false,
      });
      const finished = completions(w.worker, n);
      void w.worker.run();
      await finished;
      seconds = (performance.now() - started) / 1000;
      await w.close();
    }
    await verify(side, e, n);
    return { jobsPerS: n / seconds };
  } finally {
    await e.close();
  }
}

let logDir: string | undefined;

async function runCli(side: Side, api: Api, n: number): Promise<Sample> {
  const e = await enqueue(side, api.url, n);
  logDir ??= mkdtempSync(join(tmpdir(), 'sdx-bench-'));
  const logPath = join(logDir, `${side}-${randomUUID().slice(0, 8)}.log`);
  const logFd = openSync(logPath, 'w');
  const args = side === 'pipeline' ? [CLI_BIN, 'worker'] : ['--import', 'tsx', BARE_SCRIPT];
  const env = { ...cleanEnv(), ...workerEnv(e.prefix, api.url), LOG_LEVEL };
  let child: Child | undefined;
  try {
    const started = performance.now();
    child = startChild(args, { env, stdout: logFd });
    closeSync(logFd);
    let first: number | undefined;
    let leftAtFirst = n;
    let last = n;
    let lastChange = started;
    for (;;) {
      const left = await remaining(e);
      const now = performance.now();
      if (left < n && first === undefined) [first, leftAtFirst] = [now, left];
      if (left === 0) break;
      if (left !== last) [last, lastChange] = [left, now];
      if (child.exit !== undefined) {
        throw new Error(`the ${side} worker exited early: ${child.stderr() || '(no stderr)'}`);
      }
      if (now - lastChange > STALL_MS) {
        throw new Error(
          `the ${side} worker made no progress for ${STALL_MS / 1000} s (${left} left)`,
        );
      }
      await sleep(POLL_MS);
    }
    const ended = performance.now();
    const seconds = (ended - started) / 1000;
    const rss = maxRss(child.proc.pid);
    const exit = await stopChild(child);
    if (exit !== 'code 0') {
      console.warn(`warning: the ${side} worker exited with ${exit}: ${child.stderr()}`);
    }
    await verify(side, e, n);
    const log = readFileSync(logPath, 'utf8');
    const logLines = log.length === 0 ? 0 : log.split('\n').length - 1;
    const bad = log.match(/"level":(?:40|50|60),/g)?.length ?? 0;
    if (bad > 0) console.warn(`warning: the ${side} worker logged ${bad} warnings/errors`);
    return {
      jobsPerS: n / seconds,
      firstMs: (first ?? ended) - started,
      afterFirstJobsPerS:
        first === undefined || leftAtFirst === 0
          ? undefined
          : leftAtFirst / ((ended - first) / 1000),
      rss,
      logLines,
    };
  } finally {
    if (child) await stopChild(child, 'SIGKILL');
    rmSync(logPath, { force: true });
    await e.close();
  }
}

// --- report ------------------------------------------------------------------------------

/** The middle value (the mean of the two middle ones for an even count). */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return 0;
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

const fmt0 = (x: number | undefined) => (x === undefined ? '?' : x.toFixed(0));
const mib = (x: number | undefined) => (x === undefined ? '?' : (x / MiB).toFixed(0));

/** The goal: >= 1.00 against the stub, and never below 0.80 anywhere. */
function verdict(target: Target, ratio: number): string {
  if (ratio < 0.8) return 'BELOW 0.80';
  if (target === 'stub') return ratio >= 1 ? 'ok (>= 1.00)' : 'ok >= 0.80, < goal 1.00';
  return 'ok (>= 0.80)';
}

interface Row {
  target: Target;
  mode: Mode;
  baseline: number;
  pipeline: number;
  ratio: number;
  rss: string;
  first: string;
  afterFirst: string;
}

function printTable(rows: readonly Row[]): void {
  const header = [
    'target',
    'mode',
    'baseline jobs/s',
    'pipeline jobs/s',
    'ratio',
    'goal',
    'start-up ms (b / p)',
    'jobs/s after start-up (b / p)',
    'peak RSS MiB (b / p)',
  ];
  const cells = rows.map((r) => [
    r.target,
    r.mode,
    fmt0(r.baseline),
    fmt0(r.pipeline),
    r.ratio.toFixed(2),
    verdict(r.target, r.ratio),
    r.first,
    r.afterFirst,
    r.rss,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) =>
    `| ${c.map((x, i) => (i >= 2 && i <= 4 ? x.padStart(widths[i] ?? 0) : x.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line(header));
  console.log(
    `|${widths.map((w, i) => (i >= 2 && i <= 4 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
  );
  for (const c of cells) console.log(line(c));
  if (rows.some((r) => r.mode === 'cli')) {
    console.log(
      'cli: jobs/s count from spawning the worker process; start-up = spawn until the first job was seen done; peak RSS = VmHWM of each worker process',
    );
  }
}

// --- main --------------------------------------------------------------------------------

let peakRss = 0;
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

async function measure(target: Target, mode: Mode, api: Api): Promise<Row> {
  const run = mode === 'inproc' ? runInproc : runCli;
  const label = `${target}/${mode}`.padEnd(11);
  // Warm-up (JIT, sockets, Lua scripts, tsx's compile cache) is not counted.
  const warm = performance.now();
  await run('baseline', api, WARMUP_JOBS);
  await run('pipeline', api, WARMUP_JOBS);
  console.log(
    `${label} warm-up: ${WARMUP_JOBS} jobs each side, ${((performance.now() - warm) / 1000).toFixed(1)} s`,
  );
  peakRss = process.memoryUsage().rss;
  const samples: Record<Side, Sample[]> = { baseline: [], pipeline: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so neither side always runs on a warmer (or hotter) machine.
    const order: Side[] = round % 2 === 0 ? ['baseline', 'pipeline'] : ['pipeline', 'baseline'];
    for (const side of order) samples[side].push(await run(side, api, JOBS));
    const b = samples.baseline.at(-1);
    const p = samples.pipeline.at(-1);
    if (!b || !p) throw new Error('unreachable: both sides ran');
    const extra = (s: Sample) =>
      mode === 'cli'
        ? ` (first job done ${fmt0(s.firstMs)} ms after spawn, then ${fmt0(s.afterFirstJobsPerS)} jobs/s; max RSS ${mib(s.rss)} MiB; ${s.logLines ?? 0} log lines)`
        : '';
    console.log(
      `${label} round ${round + 1}/${ROUNDS} (${order[0]} first): baseline ${fmt0(b.jobsPerS)} jobs/s${extra(b)}, ` +
        `pipeline ${fmt0(p.jobsPerS)} jobs/s${extra(p)}, ratio ${(p.jobsPerS / b.jobsPerS).toFixed(2)}`,
    );
  }
  const med = (side: Side, f: (s: Sample) => number | undefined) => {
    const xs = samples[side].map(f).filter((x): x is number => x !== undefined);
    return xs.length === 0 ? undefined : median(xs);
  };
  const baseline = med('baseline', (s) => s.jobsPerS) ?? 0;
  const pipeline = med('pipeline', (s) => s.jobsPerS) ?? 0;
  const both = (f: (s: Sample) => number | undefined) =>
    `${fmt0(med('baseline', f))} / ${fmt0(med('pipeline', f))}`;
  const peak = (side: Side) => Math.max(...samples[side].map((s) => s.rss ?? 0));
  return {
    target,
    mode,
    baseline,
    pipeline,
    ratio: pipeline / baseline,
    rss:
      mode === 'cli'
        ? `${mib(peak('baseline'))} / ${mib(peak('pipeline'))}`
        : `${mib(peakRss)} (one process, both)`,
    first: mode === 'cli' ? both((s) => s.firstMs) : '-',
    afterFirst: mode === 'cli' ? both((s) => s.afterFirstJobsPerS) : '-',
  };
}

async function main(): Promise<void> {
  console.log(
    `throughput: ${JOBS} jobs, concurrency ${CONCURRENCY}, ${ROUNDS} round(s), target ${TARGETS.join('+')}, ` +
      `mode ${MODES.join('+')}, node ${process.version}, ${availableParallelism()} CPUs, redis ${safeRedisUrl(REDIS_URL)}`,
  );
  const rows: Row[] = [];
  for (const target of TARGETS) {
    const api = await startApi(target);
    try {
      if (target === 'stub') {
        await checkStubContract(api.url);
        console.log(`stub ${api.url}: answers match the ProviderItem contract`);
      } else {
        console.log(`simulator ${api.url} (no rate limit, no faults, ${JOBS} accounts)`);
      }
      for (const mode of MODES) rows.push(await measure(target, mode, api));
    } finally {
      await api.stop();
    }
  }
  clearInterval(rssTimer);
  if (logDir) rmSync(logDir, { recursive: true, force: true });
  console.log('');
  console.log(
    `median of ${ROUNDS} round(s), ${JOBS} jobs, concurrency ${CONCURRENCY}; ratio = pipeline / baseline`,
  );
  printTable(rows);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  if (logDir) rmSync(logDir, { recursive: true, force: true });
  process.exit(1);
});
