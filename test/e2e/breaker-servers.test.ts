/**
 * Three `serve` processes, one spike: signed bounces for one account spread over the three
 * (and a retried delivery sent to two of them) trip the breaker once - one trip, one event, one
 * deactivate intent - and each process counts its share. Real processes, real Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../src/redis/redis-server.js';
import { webhookSignature } from '../../src/sendmux/webhook-signature.js';
import { readBreaker } from '../../src/store/breaker-state.js';
import { readRecentEvents } from '../../src/store/events.js';
import { keysFor } from '../../src/store/keys.js';
import { spawnCli, type CliProcess } from '../support/cli-process.js';
import { dropPrefix, testConfig } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();

const config = testConfig();
const SECRET = 'whsec_three_servers';
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
const servers: CliProcess[] = [];

afterAll(async () => {
  for (const s of servers) s.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => s.exited));
  await redis.quit();
  await dropPrefix(config.prefix);
});

describe('three servers, one spike', () => {
  it('trips once', async () => {
    const ports = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()];
    for (const port of ports) {
      servers.push(
        spawnCli(['serve', '--port', String(port), '--host', '127.0.0.1'], {
          REDIS_URL: config.redisUrl,
          QUEUE_PREFIX: config.prefix,
          SENDMUX_WEBHOOK_SECRET: SECRET,
          BREAKER_SENDER_MAP: JSON.stringify({ 'spike@shop.example': 'dprov_spike3' }),
          BREAKER_BOUNCE_MIN_VOLUME: '20',
          BREAKER_BOUNCE_RATE: '0.5',
        }),
      );
    }
    for (const port of ports) {
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
        } catch {
          if (i > 400) throw new Error(`server on ${port} did not start`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const post = (port: number, n: number) => {
      const id = `evt_spike_${n}`;
      const body = JSON.stringify({
        id,
        type: 'message.bounced',
        occurred_at: new Date().toISOString(),
        data: {
          message_id: `<${id}@shop.example>`,
          sender: 'spike@shop.example',
          bounce_type: 'Permanent',
        },
      });
      return fetch(`http://127.0.0.1:${port}/webhooks/sendmux`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-sendmux-signature': webhookSignature(SECRET, body),
          'x-sendmux-event-id': id,
        },
        body,
      });
    };
    // 60 bounces over the three at once, and event 0 delivered again to another server.
    const answers = await Promise.all([
      ...Array.from({ length: 60 }, (_, n) => post(ports[n % 3] ?? 0, n)),
      post(ports[1] ?? 0, 0),
    ]);
    expect(answers.filter((a) => a.status === 202)).toHaveLength(60);
    const keys = keysFor(config.prefix);
    let record = await readBreaker(redis, keys, 'dprov_spike3');
    // Open first, then marked enqueued once its deactivation is in the queue (a second step).
    for (let i = 0; i < 200 && !(record.state === 'open' && record.last_trip?.enqueued); i++) {
      await new Promise((r) => setTimeout(r, 50));
      record = await readBreaker(redis, keys, 'dprov_spike3');
    }
    expect(record).toMatchObject({
      state: 'open',
      trips: 1,
      last_trip: { reason: 'bounce_rate', enqueued: true },
    });
    // Every event counted once by one of the three; one trip event, one deactivate job.
    const stats = await redis.hgetall(keys.webhookStats);
    for (let i = 0; i < 200 && Number(stats.counted ?? 0) + Number(stats.open ?? 0) + 1 < 60; i++) {
      await new Promise((r) => setTimeout(r, 50));
      Object.assign(stats, await redis.hgetall(keys.webhookStats));
    }
    expect(Number(stats.counted ?? 0) + Number(stats.open ?? 0) + Number(stats.tripped ?? 0)).toBe(
      60,
    );
    expect(Number(stats.tripped ?? 0)).toBe(1);
    const trips = (await readRecentEvents(redis, keys, { type: 'breaker.tripped' })).length;
    expect(trips).toBe(1);
    // The breaker's intents go to the urgent queue (queue.ts, isUrgentIntent).
    expect(await redis.llen(`${config.prefix}:urgent:wait`)).toBe(1);
    expect(await redis.llen(`${config.prefix}:actions:wait`)).toBe(0);
  });
});
