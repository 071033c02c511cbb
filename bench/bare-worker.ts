/**
 * The throughput benchmark's baseline: a bare BullMQ worker whose job is only the HTTP call
 * (got, keep-alive, no retries), with none of the pipeline's work around it (no turn-taking,
 * no outcome recording, no logging, no schema parsing beyond JSON).
 *
 * Imported by bench/throughput.ts (`--mode inproc`), or run as a process the way the real
 * worker is (`--mode cli`), configured by the same environment variables:
 *
 *   REDIS_URL=... QUEUE_PREFIX={...} SENDMUX_BASE_URL=... SENDMUX_API_KEY=... \
 *   WORKER_CONCURRENCY=50 node --import tsx bench/bare-worker.ts
 *
 * Jobs (queue {@link BARE_QUEUE}) carry `{ accountId, key }`; each is one
 * `POST providers/:accountId/deactivate` with `Idempotency-Key: key`. Runs until SIGTERM/SIGINT.
 */
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import got from 'got';
import { Redis } from 'ioredis';

export const BARE_QUEUE = 'bare';

export interface BareJobData {
  accountId: string;
  key: string;
}

export interface BareWorkerOptions {
  redisUrl: string;
  prefix: string;
  baseUrl: string;
  apiKey: string;
  concurrency: number;
  /** @defaultValue true */
  autorun?: boolean;
}

export interface BareWorker {
  worker: Worker<BareJobData, string>;
  close(): Promise<void>;
}

export function startBareWorker(options: BareWorkerOptions): BareWorker {
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: Math.max(16, options.concurrency * 2),
  });
  const client = got.extend({
    prefixUrl: `${options.baseUrl.replace(/\/+$/, '')}/`,
    headers: { authorization: `Bearer ${options.apiKey}` },
    agent: { http: agent },
    retry: { limit: 0 },
    timeout: { request: 10_000 },
  });
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker<BareJobData, string>(
    BARE_QUEUE,
    async (job) => {
      const body = await client
        .post(`providers/${job.data.accountId}/deactivate`, {
          headers: { 'idempotency-key': job.data.key },
        })
        .json<{ data: { status: string } }>();
      return body.data.status;
    },
    {
      connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      autorun: options.autorun ?? true,
    },
  );
  return {
    worker,
    async close() {
      await worker.close();
      agent.destroy();
      await connection.quit();
    },
  };
}

async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (value === undefined || value === '') throw new Error(`bare-worker: ${name} is required`);
    return value;
  };
  const bare = startBareWorker({
    redisUrl: env('REDIS_URL'),
    prefix: env('QUEUE_PREFIX'),
    baseUrl: env('SENDMUX_BASE_URL'),
    apiKey: env('SENDMUX_API_KEY'),
    concurrency: Number(env('WORKER_CONCURRENCY')),
  });
  bare.worker.on('error', (err) => {
    console.error(`bare-worker: ${err.message}`);
  });
  const stop = () => {
    void bare.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await bare.worker.waitUntilReady();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
