/**
 * Throughput: N jobs through the full pipeline (producer -> BullMQ -> worker -> got ->
 * simulator -> status + events) against a bare BullMQ + got worker doing only the HTTP call,
 * both against the same simulator process (no rate limit, no faults), in the same run.
 *
 *   npm run bench:throughput -- [--jobs 20000] [--concurrency 50] [--rounds 3]
 *
 * Prints jobs/s for both, the ratio (goal >= 0.8) and peak RSS. Needs Redis at REDIS_URL.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import got from 'got';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { openProducer } from '../src/queue/open-producer.js';
import { simAccountId } from '../src/sim/index.js';
import { dropPrefix } from '../src/store/drop-prefix.js';
import { startWorker } from '../src/worker/worker.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
  },
});
let JOBS = Number(values.jobs);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const API_KEY = 'smx_root_sim_key';
const base = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });

let peakRss = 0;
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

async function startSimProcess(): Promise<{ url: string; stop(): Promise<void> }> {
  const bin = fileURLToPath(new URL('../bin/sendmux-deactivator.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [bin, 'sim', '--port', '0', '--accounts', String(JOBS), '--rate-limit', '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /SENDMUX_BASE_URL=(\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => {
      reject(new Error(`simulator exited with ${String(code)}`));
    });
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    },
  };
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

async function runPipeline(simUrl: string, round: number): Promise<number> {
  const config: Config = {
    ...base,
    prefix: `{sdx-bench-${randomUUID().slice(0, 8)}}`,
    baseUrl: simUrl,
    apiKey: API_KEY,
    rateLimitPerMinute: 0,
    concurrency: CONCURRENCY,
    keepCompletedJobs: 1000,
  };
  const producer = openProducer(config);
  await producer.enqueueMany(
    Array.from({ length: JOBS }, (_, i) => ({
      action: 'deactivate' as const,
      providerId: simAccountId(i + 1),
      idempotencyKey: `bench-p${round}-${i}`,
      source: 'manual' as const,
      reason: 'benchmark',
    })),
    { chunkSize: 1000 },
  );
  const started = performance.now();
  const worker = await startWorker({
    config,
    logger: createLogger({ level: 'silent', pretty: false }),
    autorun: false,
  });
  const finished = completions(worker.worker, JOBS);
  void worker.worker.run();
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await dropPrefix(producer.redis, config.prefix);
  await producer.close();
  return JOBS / seconds;
}

async function runBare(simUrl: string, round: number): Promise<number> {
  const prefix = `{sdx-bare-${randomUUID().slice(0, 8)}}`;
  const connection = new Redis(base.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bare', { connection, prefix });
  for (let i = 0; i < JOBS; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, JOBS - i) }, (_, j) => ({
        name: 'deactivate',
        data: { providerId: simAccountId(i + j + 1), key: `bench-b${round}-${i + j}` },
        opts: {
          jobId: `k-bench-b${round}-${i + j}`,
          removeOnComplete: { count: 1000 },
          attempts: 3,
        },
      })),
    );
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(16, CONCURRENCY * 2) });
  const client = got.extend({
    prefixUrl: `${simUrl}/`,
    headers: { authorization: `Bearer ${API_KEY}` },
    agent: { http: agent },
    retry: { limit: 0 },
    timeout: { request: 10_000 },
  });
  const started = performance.now();
  const workerConnection = new Redis(base.redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker<{ providerId: string; key: string }>(
    'bare',
    async (job) => {
      const body = await client
        .post(`providers/${job.data.providerId}/deactivate`, {
          headers: { 'idempotency-key': job.data.key },
        })
        .json<{ data: { status: string } }>();
      return body.data.status;
    },
    { connection: workerConnection, prefix, concurrency: CONCURRENCY, autorun: false },
  );
  const finished = completions(worker, JOBS);
  void worker.run();
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  agent.destroy();
  await queue.obliterate({ force: true });
  await queue.close();
  await dropPrefix(connection, prefix);
  await connection.quit();
  await workerConnection.quit();
  return JOBS / seconds;
}

async function main(): Promise<void> {
  const sim = await startSimProcess();
  console.log(
    `throughput: ${JOBS} jobs, concurrency ${CONCURRENCY}, ${ROUNDS} round(s), node ${process.version}, simulator ${sim.url}`,
  );
  const bare: number[] = [];
  const full: number[] = [];
  try {
    // Warm-up (JIT, sockets, Lua scripts) is not counted.
    const jobs = JOBS;
    JOBS = Math.max(100, Math.floor(jobs / 10));
    await runBare(sim.url, -1);
    await runPipeline(sim.url, -1);
    JOBS = jobs;
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so neither side always runs on a warmer machine.
      if (round % 2 === 0) {
        bare.push(await runBare(sim.url, round));
        full.push(await runPipeline(sim.url, round));
      } else {
        full.push(await runPipeline(sim.url, round));
        bare.push(await runBare(sim.url, round));
      }
      console.log(
        `round ${round + 1}: bare BullMQ+got ${bare.at(-1)?.toFixed(0)} jobs/s, full pipeline ${full.at(-1)?.toFixed(0)} jobs/s`,
      );
    }
  } finally {
    await sim.stop();
    clearInterval(rssTimer);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const b = median(bare);
  const f = median(full);
  console.log('');
  console.log(`baseline (bare BullMQ + got):  ${b.toFixed(0)} jobs/s (median of ${ROUNDS})`);
  console.log(`sendmux-deactivator pipeline:  ${f.toFixed(0)} jobs/s (median of ${ROUNDS})`);
  console.log(`ratio pipeline/baseline:       ${(f / b).toFixed(2)} (goal >= 0.80)`);
  console.log(`peak RSS of this process:      ${(peakRss / 1024 / 1024).toFixed(0)} MiB`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
