/**
 * Webhook burst (issue 18, part 3): a burst of signed webhooks from many connections into the
 * real server (`serve` in its own process, the breaker consuming its inbox meanwhile) with a
 * small inbox, as Sendmux would send them: every 503 is sent again after a pause (Sendmux
 * waits `Retry-After`; here `--retry-ms`), until each event is accepted. Then it waits for the
 * breaker and counts what it processed (webhook-stats). An event answered 202 and never
 * processed is lost: the run fails.
 *
 *   npm run bench:webhook-burst -- [--events 5000] [--connections 50] [--maxlen 100]
 *     [--backlog N] [--retry-ms 200]
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { webhookSignature } from '../src/sendmux/webhook-signature.js';
import { dropPrefix } from '../src/store/drop-prefix.js';
import { keysFor } from '../src/store/keys.js';
import { readWebhookStats } from '../src/store/webhook-stats.js';
import { freePort, positiveOption } from './support.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    connections: { type: 'string', default: '50' },
    maxlen: { type: 'string', default: '100' },
    backlog: { type: 'string' },
    'retry-ms': { type: 'string', default: '200' },
  },
});
const positive = positiveOption('webhook-burst');
const EVENTS = positive('events', values.events);
const CONNECTIONS = positive('connections', values.connections);
const MAXLEN = positive('maxlen', values.maxlen);
const BACKLOG = values.backlog === undefined ? undefined : positive('backlog', values.backlog);
const RETRY_MS = positive('retry-ms', values['retry-ms']);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECRET = 'bench-webhook-burst-secret';

interface Answer {
  status: number;
  retryAfter: string | undefined;
}

function post(agent: Agent, port: number, id: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/webhooks/sendmux',
        agent,
        headers: {
          'content-type': 'application/json',
          'x-sendmux-signature': webhookSignature(SECRET, body),
          'x-sendmux-event-id': id,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const h = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: typeof h === 'string' ? h : undefined,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const prefix = `{sdx-bench-burst-${randomUUID().slice(0, 8)}}`;
  const keys = keysFor(prefix);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/sendmux-deactivator.js'),
      'serve',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        LOG_LEVEL: 'error',
        SENDMUX_WEBHOOK_SECRET: SECRET,
        WEBHOOK_INBOX_MAXLEN: String(MAXLEN),
        ...(BACKLOG === undefined ? {} : { WEBHOOK_INBOX_BACKLOG_MAX: String(BACKLOG) }),
        BREAKER_SENDER_MAP: JSON.stringify({ 'bench@burst.example': 'dprov_burst1' }),
        BREAKER_BOUNCE_MIN_VOLUME: '100000000',
        BREAKER_COMPLAINT_MIN_VOLUME: '100000000',
      },
    },
  );
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        if (i > 300) throw new Error(`no server on port ${port}`);
      }
      await sleep(50);
    }
    const run = randomUUID().slice(0, 8);
    const events = Array.from({ length: EVENTS }, (_, i) => {
      const id = `evt_${run}_${i}`;
      const body = JSON.stringify({
        id,
        type: 'message.delivered',
        team_public_id: 'team_bench',
        occurred_at: new Date().toISOString(),
        data: { message_id: `<${id}@burst.example>`, sender: 'bench@burst.example' },
      });
      return { id, body };
    });
    const counts = { accepted: 0, refused: 0, refusedWithoutRetryAfter: 0, other: 0 };
    let firstPass = { accepted: 0, refused: 0 };
    const started = Date.now();
    let todo = events;
    let round = 0;
    while (todo.length > 0) {
      round++;
      const again: typeof events = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          for (let i = next++; i < todo.length; i = next++) {
            const e = todo[i];
            if (!e) continue;
            const a = await post(agent, port, e.id, e.body);
            if (a.status === 202) counts.accepted++;
            else if (a.status === 503) {
              counts.refused++;
              if (a.retryAfter === undefined) counts.refusedWithoutRetryAfter++;
              again.push(e);
            } else counts.other++;
          }
        }),
      );
      if (round === 1) firstPass = { accepted: counts.accepted, refused: counts.refused };
      todo = again;
      if (todo.length > 0) await sleep(RETRY_MS);
      if (Date.now() - started > 300_000) throw new Error('still refused after 5 minutes');
    }
    const sentS = (Date.now() - started) / 1000;
    // Wait for the breaker: until it has processed every accepted event, or 25 s of nothing.
    let processed = 0;
    let since = Date.now();
    for (;;) {
      const { results } = await readWebhookStats(redis, keys, 0);
      const n = Object.values(results).reduce((a, b) => a + b, 0);
      if (n !== processed) since = Date.now();
      processed = n;
      if (n >= counts.accepted || Date.now() - since > 25_000) break;
      await sleep(200);
    }
    console.log(
      `webhook-burst: ${EVENTS} events, ${CONNECTIONS} connections, WEBHOOK_INBOX_MAXLEN=${MAXLEN}${BACKLOG === undefined ? '' : `, WEBHOOK_INBOX_BACKLOG_MAX=${BACKLOG}`}, retry after ${RETRY_MS} ms`,
    );
    console.log(
      `first pass: ${firstPass.accepted} answered 202, ${firstPass.refused} answered 503; all in after ${round} round(s), ${sentS.toFixed(1)} s (${counts.refused} 503s in all, ${counts.refusedWithoutRetryAfter} without Retry-After; ${counts.other} other answers)`,
    );
    console.log(
      `accepted ${counts.accepted}, processed ${processed}, lost ${Math.max(0, counts.accepted - processed)}`,
    );
    if (processed < counts.accepted || counts.refusedWithoutRetryAfter > 0 || counts.other > 0)
      process.exitCode = 1;
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
    await once(child, 'exit');
    await dropPrefix(redis, prefix);
    await redis.quit();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
