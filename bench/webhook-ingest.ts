/**
 * Webhook ingest: signed Sendmux webhooks over loopback into the real server (`serve`, in its
 * own process: signature check, dedupe, one Lua step to store, 202; the breaker consumes the
 * inbox in the same process meanwhile), against a bare receiver in the same run (fastify +
 * XADD, nothing checked: bench/bare-webhook-server.ts). Load from autocannon, every request a
 * new event id with its own signature (made before the run, so the load generator does not
 * spend its CPU on HMACs).
 *
 *   npm run bench:webhook-ingest -- [--duration 10] [--connections 50] [--rounds 1]
 *
 * Goal (issue 8): >= 5,000 accepted webhooks/s, p99 <= 20 ms, on this 2-core machine. Needs
 * Redis at REDIS_URL (default redis://127.0.0.1:6379).
 *
 * Every accepted (202) event must be processed (issue 18): after the load the pipeline side
 * waits for the breaker to finish and counts what it processed (the webhook-stats results), not
 * what the inbox holds; fewer processed than accepted fails the run. A 503 (the inbox full of
 * unprocessed events; Sendmux would retry it) is counted apart, as refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { webhookSignature } from '../src/sendmux/webhook-signature.js';
import { dropPrefix } from '../src/store/drop-prefix.js';
import { keysFor } from '../src/store/keys.js';
import { readWebhookStats } from '../src/store/webhook-stats.js';
import { freePort, positiveOption } from './support.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '1' },
  },
});
const positive = positiveOption('webhook-ingest');
const DURATION_S = positive('duration', values.duration);
const CONNECTIONS = positive('connections', values.connections);
const ROUNDS = positive('rounds', values.rounds);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECRET = 'bench-webhook-secret';
const GOAL_RPS = 5_000;
const GOAL_P99_MS = 20;

type Side = 'baseline' | 'pipeline';

function startServer(side: Side, port: number, prefix: string): ChildProcess {
  const args =
    side === 'pipeline'
      ? [
          join(ROOT, 'bin/sendmux-deactivator.js'),
          'serve',
          '--port',
          String(port),
          '--host',
          '127.0.0.1',
        ]
      : ['--import', 'tsx', join(ROOT, 'bench/bare-webhook-server.ts'), String(port), prefix];
  return spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      SENDMUX_WEBHOOK_SECRET: SECRET,
      // Every event resolves to one account, which never trips (the volume rule is out of reach).
      BREAKER_SENDER_MAP: JSON.stringify({ 'bench@ingest.example': 'dprov_ingest1' }),
      BREAKER_BOUNCE_MIN_VOLUME: '100000000',
      BREAKER_COMPLAINT_MIN_VOLUME: '100000000',
    },
  });
}

async function waitHealthy(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error(`no server on port ${port}`);
}

/** Signed bodies, made before the run: the load generator does no HMAC while it runs. */
function makeRequests(n: number): { body: string; headers: Record<string, string> }[] {
  const run = randomUUID().slice(0, 8);
  const types = ['message.delivered', 'message.delivered', 'message.delivered', 'message.bounced'];
  return Array.from({ length: n }, (_, i) => {
    const id = `evt_${run}_${i}`;
    const type = types[i % types.length] ?? 'message.delivered';
    const body = JSON.stringify({
      id,
      type,
      team_public_id: 'team_bench',
      occurred_at: new Date().toISOString(),
      data: {
        message_id: `<${id}@ingest.example>`,
        message_id_kind: 'rfc5322',
        sendmux_message_id: `msg_${id}`,
        sender: 'bench@ingest.example',
        recipients: ['someone@example.com'],
        ...(type === 'message.bounced' ? { bounce_type: 'Transient' } : {}),
      },
    });
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-sendmux-signature': webhookSignature(SECRET, body),
        'x-sendmux-event-id': id,
        'x-sendmux-event-type': type,
      },
    };
  });
}

interface Sample {
  rps: number;
  p99: number;
  accepted: number;
  non2xx: number;
  errors: number;
  /** 503s: the inbox full, nothing stored (the pipeline only). */
  refused: number;
  /** Pipeline: events the breaker processed; baseline: entries in its stream. */
  stored: number;
  /** Pipeline: seconds from the end of the load until the breaker had processed the last. */
  drainS: number;
}

async function runSide(side: Side, redis: Redis): Promise<Sample> {
  const prefix = `{sdx-bench-ingest-${side}-${randomUUID().slice(0, 8)}}`;
  const port = await freePort();
  const child = startServer(side, port, prefix);
  try {
    await waitHealthy(port);
    // Enough distinct events for the run at well above the goal.
    const requests = makeRequests(Math.max(50_000, DURATION_S * 25_000));
    let next = 0;
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/webhooks/sendmux`,
      connections: CONNECTIONS,
      duration: DURATION_S,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            const r = requests[next++ % requests.length];
            return { ...req, method: 'POST', body: r?.body, headers: r?.headers };
          },
        },
      ],
    });
    const accepted = result['2xx'];
    const refused = result.statusCodeStats?.['503']?.count ?? 0;
    const ended = Date.now();
    const stored =
      side === 'pipeline'
        ? await processed(redis, prefix, accepted)
        : await redis.xlen(`${prefix}:bare-inbox`);
    return {
      rps: accepted / DURATION_S,
      p99: result.latency.p99,
      accepted,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      refused,
      stored,
      drainS: side === 'pipeline' ? (Date.now() - ended) / 1000 : 0,
    };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await dropPrefix(redis, prefix);
  }
}

/**
 * Events the breaker has processed (every result counted in webhook-stats), once it has
 * processed `accepted` of them or made no progress for 15 s.
 */
async function processed(redis: Redis, prefix: string, accepted: number): Promise<number> {
  const keys = keysFor(prefix);
  let last = -1;
  let since = Date.now();
  for (;;) {
    const { results } = await readWebhookStats(redis, keys, 0);
    const n = Object.values(results).reduce((a, b) => a + b, 0);
    if (n >= accepted) return n;
    if (n !== last) {
      last = n;
      since = Date.now();
    } else if (Date.now() - since > 15_000) return n;
    await sleep(200);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  console.log(
    `webhook-ingest: ${DURATION_S} s per side, ${CONNECTIONS} connections, ${ROUNDS} round(s), node ${process.version}, ${availableParallelism()} CPUs, redis ${REDIS_URL}`,
  );
  try {
    const samples: Record<Side, Sample[]> = { baseline: [], pipeline: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Side[] = round % 2 === 1 ? ['baseline', 'pipeline'] : ['pipeline', 'baseline'];
      for (const side of order) {
        const s = await runSide(side, redis);
        samples[side].push(s);
        console.log(
          side === 'pipeline'
            ? `round ${round}/${ROUNDS} ${side}: ${Math.round(s.rps)} accepted/s, p99 ${s.p99} ms, ${s.accepted} accepted, ${s.stored} processed (the last ${s.drainS.toFixed(1)} s after the load), ${s.refused} refused (503 inbox_full), ${s.non2xx} non-2xx, ${s.errors} errors`
            : `round ${round}/${ROUNDS} ${side}: ${Math.round(s.rps)} accepted/s, p99 ${s.p99} ms, ${s.accepted} accepted, ${s.stored} stored, ${s.non2xx} non-2xx, ${s.errors} errors`,
        );
        if (side === 'pipeline' && s.stored < s.accepted) {
          throw new Error(`pipeline: ${s.accepted} accepted but only ${s.stored} processed`);
        }
      }
    }
    const b = {
      rps: median(samples.baseline.map((s) => s.rps)),
      p99: median(samples.baseline.map((s) => s.p99)),
    };
    const p = {
      rps: median(samples.pipeline.map((s) => s.rps)),
      p99: median(samples.pipeline.map((s) => s.p99)),
    };
    console.log(`\nmedian of ${ROUNDS} round(s); ratio = pipeline / baseline accepted per second`);
    console.log('| side | accepted/s | p99 ms | goal |');
    console.log('|------|-----------:|-------:|------|');
    console.log(`| baseline (no checks) | ${Math.round(b.rps)} | ${b.p99} | - |`);
    const ok = p.rps >= GOAL_RPS && p.p99 <= GOAL_P99_MS;
    console.log(
      `| pipeline | ${Math.round(p.rps)} | ${p.p99} | ${ok ? 'ok' : 'NOT MET'} (>= ${GOAL_RPS}/s, p99 <= ${GOAL_P99_MS} ms) |`,
    );
    console.log(`ratio ${(p.rps / b.rps).toFixed(2)}`);
  } finally {
    await redis.quit();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
