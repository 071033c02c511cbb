/**
 * Soak: a steady loop of work against a private redis-server, printing the deployment's key
 * count and memory at intervals, to show that they reach a plateau (issue 18, part 4).
 *
 * Each round: manual deactivations and activations of a few simulator accounts and a
 * deactivation of an account id the API does not know (a 404: its hold must go, its failed job
 * and records expire); signed webhooks through the real receiver into the breaker; every few
 * rounds an activate bulk run (a batch record); all along a maintenance window recurring every
 * 2 s (an occurrence each time). The real worker (with its retention sweep), the windows' worker
 * and the breaker service run in this process against the simulator.
 *
 * Retention settings are turned down to seconds, below the minimums production allows
 * (IDEMPOTENCY_TTL_S, WEBHOOK_DEDUPE_TTL_S, SIGNAL_DEDUPE_TTL_S), so a plateau shows in seconds.
 * The breaker's minute buckets still live their window plus 2 min (the webhooks name one
 * account, so that is a few keys).
 *
 *   npm run soak -- --minutes 5 [--every-s 10] [--round-ms 250]
 *
 * The test (test/e2e/soak.test.ts) runs 30 s of it and fails when the last third of the samples
 * still grows past the middle third.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../src/config.js';
import { buildServer } from '../src/http/server.js';
import { createLogger } from '../src/logger.js';
import { startBreakerService } from '../src/ops/breaker-service.js';
import { startBulkRun } from '../src/ops/bulk.js';
import { enqueueActions } from '../src/ops/enqueue-actions.js';
import { startWindowService } from '../src/ops/window-service.js';
import { createWindow } from '../src/ops/windows.js';
import { freeLoopbackPort, startRedisServer } from '../src/redis/redis-server.js';
import { webhookSignature } from '../src/sendmux/webhook-signature.js';
import { simAccountId, startSimulator } from '../src/sim/index.js';
import { keysFor } from '../src/store/keys.js';
import { startWorker } from '../src/worker/worker.js';

export interface SoakSample {
  /** Seconds since the loop began. */
  atS: number;
  /** Keys under the deployment's prefix (SCAN MATCH). */
  keys: number;
  /** MEMORY USAGE summed over those keys (bytes). */
  keyBytes: number;
  /**
   * Of those, BullMQ's own structures capped by count rather than age (each queue's events
   * stream, 10,000 entries; the windows queue's finished jobs, 1,000): bounded, but they fill
   * for minutes, so the short run's verdict leaves them out.
   */
  cappedKeys: number;
  cappedBytes: number;
  /** The private server's used_memory (bytes): every byte is this deployment's. */
  usedMemory: number;
  /** Intents claimed and not yet terminal: the backlog the worker has not caught up with. */
  pending: number;
  /** Work done so far. */
  actions: number;
  webhooks: number;
}

export interface SoakOptions {
  durationMs: number;
  sampleEveryMs: number;
  /** One round of work every this many ms. @defaultValue 250 */
  roundMs?: number;
  /** Each sample as it is taken. */
  onSample?: (s: SoakSample) => void;
}

export interface SoakResult {
  samples: SoakSample[];
  /** Plateau verdict per measure (see {@link plateaus}). */
  plateau: { keys: { ok: boolean; ratio: number }; keyBytes: { ok: boolean; ratio: number } };
}

const PREFIX = '{soak}';
/** One round of work every this many ms, by default. */
const ROUND_MS = 250;
const SECRET = 'whsec_soak_0123456789';
const SENDER = 'news@soak.example';

/**
 * The plateau rule (on keys and bytes less BullMQ's count-capped ones): the mean of the last
 * third of the samples is at most 10 % above the mean of the middle third (means, not maxima:
 * the streams' approximate trimming and the TTLs make a saw-tooth of +-15 % from one sample to
 * the next). Answers the ratio too.
 */
export function plateaus(values: readonly number[]): { ok: boolean; ratio: number } {
  const third = Math.floor(values.length / 3);
  if (third < 2) throw new Error(`plateau: ${values.length} samples are too few`);
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const ratio = mean(values.slice(2 * third)) / mean(values.slice(third, 2 * third));
  return { ok: ratio <= 1.1, ratio: Math.round(ratio * 1000) / 1000 };
}

/** The biggest keys of the last sample, by kind (the key with ids and numbers blanked). */
let lastKinds = new Map<string, { keys: number; bytes: number }>();

/** BullMQ structures capped by count (see {@link SoakSample.cappedKeys}). */
const CAPPED =
  /^\{soak\}:(?:(?:actions|windows|notifications):events|windows:(?:completed|failed|repeat:.*|start-.*|end-.*))$/;

async function measure(
  redis: Redis,
): Promise<
  Pick<SoakSample, 'keys' | 'keyBytes' | 'cappedKeys' | 'cappedBytes' | 'usedMemory' | 'pending'>
> {
  let keys = 0;
  let keyBytes = 0;
  let cappedKeys = 0;
  let cappedBytes = 0;
  let cursor = '0';
  const kinds = new Map<string, { keys: number; bytes: number }>();
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    keys += found.length;
    if (found.length > 0) {
      const pipeline = redis.pipeline();
      for (const k of found) pipeline.memory('USAGE', k);
      ((await pipeline.exec()) ?? []).forEach(([err, bytes], i) => {
        const n = err ? 0 : Number(bytes) || 0;
        keyBytes += n;
        if (CAPPED.test(found[i] ?? '')) {
          cappedKeys += 1;
          cappedBytes += n;
        }
        const kind = kindOf(found[i] ?? '');
        const k = kinds.get(kind) ?? { keys: 0, bytes: 0 };
        k.keys += 1;
        k.bytes += n;
        kinds.set(kind, k);
      });
    }
  } while (cursor !== '0');
  lastKinds = kinds;
  const info = await redis.info('memory');
  const usedMemory = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  const pending = await redis.zcard(keysFor(PREFIX).pending);
  return { keys, keyBytes, cappedKeys, cappedBytes, usedMemory, pending };
}

function kindOf(key: string): string {
  return key
    .slice(PREFIX.length)
    .replace(/dprov_[A-Za-z0-9_-]+/g, '<id>')
    .replace(/evt_[A-Za-z0-9_-]+/g, '<evt>')
    .replace(/\d{3,}[-0-9]*/g, '<n>')
    .replace(/:(deactivate|activate)-[0-9a-f-]+/g, ':<key>')
    .replace(/bulk-[^:]+/g, '<batch>');
}

/** Bytes and keys per kind of key at the last sample, biggest first. */
export function lastSampleKinds(limit = 12): { kind: string; keys: number; bytes: number }[] {
  return [...lastKinds]
    .map(([kind, v]) => ({ kind, ...v }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, limit);
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sdx-soak-'));
  const port = await freeLoopbackPort();
  const server = await startRedisServer({ port, dir, args: ['--save', ''] });
  const sim = await startSimulator({ accounts: 24, rateLimit: 0 });
  const logger = createLogger({ level: process.env.SOAK_LOG_LEVEL ?? 'silent', pretty: false });
  const manual = [1, 2, 3, 4, 5, 6].map(simAccountId);
  const windowed = [7, 8].map(simAccountId);
  const bulk = [9, 10, 11].map(simAccountId);
  const config: Config = {
    ...loadConfig({
      REDIS_URL: server.url,
      SENDMUX_BASE_URL: sim.url,
      SENDMUX_API_KEY: 'smx_root_sim_key',
      QUEUE_PREFIX: PREFIX,
      LOG_LEVEL: 'silent',
    }),
    rateLimitPerMinute: 0,
    backoffBaseMs: 50,
    backoffCapMs: 500,
    shutdownTimeoutMs: 10_000,
    timeoutMs: 2_000,
    webhookSecret: SECRET,
    breakerSenderMap: JSON.stringify({ [SENDER]: simAccountId(12) }),
    breakerBounceMinVolume: 1_000_000,
    breakerComplaintMinVolume: 1_000_000,
    breakerWindowS: 60,
    // Retention in seconds (the first three below the minimums production allows).
    idempotencyTtlS: 2,
    webhookDedupeTtlS: 2,
    signalDedupeTtlS: 2,
    eventsMaxLen: 100,
    webhookInboxMaxLen: 100,
    keepCompletedJobs: 20,
    failedJobRetentionS: 2,
    accountRecordTtlS: 2,
    batchRecordTtlS: 2,
    breakerRecordTtlS: 2,
    windowOccurrencesKeep: 3,
    retentionSweepS: 1,
  };
  const redis = new Redis(server.url);
  const worker = await startWorker({ config, logger });
  const windows = await startWindowService(config, logger);
  const breaker = await startBreakerService(config, logger);
  const app = await buildServer({ config, redis, logger, breaker });
  const samples: SoakSample[] = [];
  const roundMs = options.roundMs ?? ROUND_MS;
  let actions = 0;
  let webhooks = 0;
  try {
    await worker.waitUntilReady();
    await createWindow(config, {
      id: 'soak',
      accounts: windowed,
      cron: '*/2 * * * * *',
      duration: '1s',
      reason: 'soak',
    });
    const began = Date.now();
    let nextSample = began;
    for (let round = 0; Date.now() - began < options.durationMs; round++) {
      const id = manual[round % manual.length] ?? '';
      // Deactivate (with an id the API does not know), then activate the next time around.
      if (Math.floor(round / manual.length) % 2 === 0) {
        await enqueueActions(config, {
          action: 'deactivate',
          accountIds: [id, `dprov_soak_missing_${round}`],
          reason: 'soak',
        });
        actions += 2;
      } else {
        await enqueueActions(config, { action: 'activate', accountIds: [id] });
        actions += 1;
      }
      if (round % 8 === 0) {
        await startBulkRun(config, {
          source: { kind: 'ids', ids: [...bulk, `dprov_soak_bulk_missing_${round}`] },
          action: 'activate',
          reason: 'soak',
        });
        actions += bulk.length + 1;
      }
      const sends = [];
      for (let i = 0; i < 10; i++) {
        const eventId = `evt_soak_${round}_${i}`;
        const body = JSON.stringify({
          id: eventId,
          type: i % 5 === 0 ? 'message.bounced' : 'message.delivered',
          team_public_id: 'team_soak',
          occurred_at: new Date().toISOString(),
          data: {
            message_id: `<${eventId}@soak.example>`,
            sender: SENDER,
            bounce_type: 'Permanent',
          },
        });
        sends.push(
          app.inject({
            method: 'POST',
            url: '/webhooks/sendmux',
            headers: {
              'content-type': 'application/json',
              'x-sendmux-signature': webhookSignature(SECRET, body),
              'x-sendmux-event-id': eventId,
            },
            payload: body,
          }),
        );
      }
      await Promise.all(sends);
      webhooks += sends.length;
      if (Date.now() >= nextSample) {
        const s = {
          atS: Math.round((Date.now() - began) / 100) / 10,
          ...(await measure(redis)),
          actions,
          webhooks,
        };
        samples.push(s);
        options.onSample?.(s);
        nextSample += options.sampleEveryMs;
      }
      // A fixed cadence: the same work per second whatever the machine's load (a round late
      // starts the next at once; none is made up), so what lives for a TTL stays level.
      await sleep(Math.max(0, began + (round + 1) * roundMs - Date.now()));
    }
  } finally {
    await app.close();
    await breaker.close();
    await windows.close();
    await worker.close();
    await redis.quit();
    await sim.close();
    await server.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    samples,
    plateau: {
      keys: plateaus(samples.map((s) => s.keys - s.cappedKeys)),
      keyBytes: plateaus(samples.map((s) => s.keyBytes - s.cappedBytes)),
    },
  };
}

/** One sample as a line of the table the bench prints. */
export function sampleLine(s: SoakSample): string {
  const mb = (b: number) => (b / 1_048_576).toFixed(2);
  return [
    `${s.atS.toFixed(1).padStart(7)} s`,
    `keys ${String(s.keys).padStart(6)}`,
    `key bytes ${mb(s.keyBytes).padStart(7)} MB`,
    `(BullMQ-capped ${String(s.cappedKeys).padStart(4)} keys ${mb(s.cappedBytes).padStart(6)} MB)`,
    `used_memory ${mb(s.usedMemory).padStart(7)} MB`,
    `pending ${String(s.pending).padStart(5)}`,
    `actions ${String(s.actions).padStart(7)}`,
    `webhooks ${String(s.webhooks).padStart(8)}`,
  ].join('  ');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number): number => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const n = Number(args[i + 1]);
    if (!Number.isFinite(n) || n <= 0) {
      console.error(`soak: --${name} must be a positive number`);
      process.exit(2);
    }
    return n;
  };
  const minutes = option('minutes', 5);
  const everyS = option('every-s', 10);
  const roundMs = option('round-ms', ROUND_MS);
  console.log(
    `soak: ${minutes} min, a round every ${roundMs} ms, a sample every ${everyS} s (prefix ${PREFIX}, private redis-server)`,
  );
  const result = await runSoak({
    durationMs: minutes * 60_000,
    sampleEveryMs: everyS * 1000,
    roundMs,
    onSample: (s) => {
      console.log(sampleLine(s));
    },
  });
  console.log('biggest kinds of key at the last sample:');
  for (const k of lastSampleKinds()) {
    console.log(
      `  ${k.kind.padEnd(48)} ${String(k.keys).padStart(6)} keys ${String(k.bytes).padStart(9)} B`,
    );
  }
  const { keys, keyBytes } = result.plateau;
  const ok = keys.ok && keyBytes.ok;
  console.log(
    `plateau (mean of the last third / mean of the middle third <= 1.1, BullMQ-capped keys left out): keys ${keys.ratio} ${keys.ok ? 'yes' : 'NO'}, key bytes ${keyBytes.ratio} ${keyBytes.ok ? 'yes' : 'NO'}`,
  );
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
