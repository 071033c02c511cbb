/**
 * The rate-budget benchmark's alternatives to the pipeline: a bare BullMQ + got worker that
 * POSTs each job's deactivate with its Idempotency-Key, in one of two well-known ways:
 *
 *   RATE_MODE=static  BullMQ's own limiter set to the API's limit (RATE_MAX per RATE_WINDOW_MS);
 *                     a 429 fails the attempt and BullMQ retries it (fixed 1 s backoff);
 *   RATE_MODE=retry   no limiter; a 429 is retried in place after its Retry-After (the SDK's way).
 *
 *   REDIS_URL=... QUEUE_PREFIX={...} SENDMUX_BASE_URL=... SENDMUX_API_KEY=... RATE_MODE=static \
 *   RATE_MAX=50 RATE_WINDOW_MS=1000 WORKER_CONCURRENCY=10 node --import tsx bench/bare-rate-worker.ts
 *
 * Jobs (queue {@link RATE_QUEUE}) carry `{ accountId, key }`. Runs until SIGTERM/SIGINT.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import got from 'got';
import { Redis } from 'ioredis';

export const RATE_QUEUE = 'rate-bench';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`bare-rate-worker: ${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const mode = env('RATE_MODE');
  if (mode !== 'static' && mode !== 'retry') throw new Error('RATE_MODE must be static or retry');
  const agent = new http.Agent({ keepAlive: true });
  const client = got.extend({
    prefixUrl: `${env('SENDMUX_BASE_URL').replace(/\/+$/, '')}/`,
    headers: { authorization: `Bearer ${env('SENDMUX_API_KEY')}` },
    agent: { http: agent },
    retry: { limit: 0 },
    throwHttpErrors: false,
    timeout: { request: 10_000 },
  });
  const connection = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
  const worker = new Worker<{ accountId: string; key: string }>(
    RATE_QUEUE,
    async (job) => {
      for (;;) {
        const res = await client.post(`providers/${job.data.accountId}/deactivate`, {
          headers: { 'idempotency-key': job.data.key },
        });
        if (res.statusCode < 300) return;
        if (res.statusCode === 429 && mode === 'retry') {
          await sleep(Number(res.headers['retry-after'] ?? 1) * 1000);
          continue;
        }
        throw new Error(`HTTP ${res.statusCode}`);
      }
    },
    {
      connection,
      prefix: env('QUEUE_PREFIX'),
      concurrency: Number(env('WORKER_CONCURRENCY')),
      ...(mode === 'static'
        ? { limiter: { max: Number(env('RATE_MAX')), duration: Number(env('RATE_WINDOW_MS')) } }
        : {}),
    },
  );
  worker.on('error', (err) => {
    console.error(`bare-rate-worker: ${err.message}`);
  });
  const stop = () => {
    void worker.close().then(async () => {
      agent.destroy();
      await connection.quit();
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await worker.waitUntilReady();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
