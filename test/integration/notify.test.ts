/**
 * Failure webhooks against real Redis, real workers, the simulator and a real HTTP receiver
 * (node:http on 127.0.0.1:0, recording raw bodies and headers): one signed CloudEvent per
 * failed action; retries with the same id and body; a hanging receiver never slows actions;
 * a 400 is final; breaker and window events; two forwarders deliver each event once; a
 * forwarder that died between add and ack; and the hook in the `worker` process.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { metricsText } from '../../src/metrics/metrics.js';
import type {
  BreakerResetEvent,
  BreakerTrippedEvent,
  StreamEvent,
  WindowEndedEvent,
  WindowSkippedEvent,
  WindowStartedEvent,
} from '../../src/model.js';
import { createNotifyQueue, notifyJobId, type NotifyQueue } from '../../src/notify/delivery.js';
import { forwardEntries, NOTIFY_GROUP } from '../../src/notify/forwarder.js';
import { startNotifier, type Notifier, type NotifierOptions } from '../../src/notify/notifier.js';
import { runWorker } from '../../src/ops/run-worker.js';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { verifyWebhookSignature } from '../../src/sendmux/webhook-signature.js';
import { simAccountId } from '../../src/sim/index.js';
import { decodeEntry, encodeEvent, EVENT_FIELD } from '../../src/store/event-codec.js';
import { eventView } from '../../src/wire/index.js';
import { testConfig, waitFor } from '../support/context.js';
import { manualIntent, startPipeline, type Pipeline } from '../support/pipeline.js';
import { waitUntilForwarded } from '../support/quiet.js';

const SECRET = 'notify-test-secret-0123456789';
const MISSING = (n: number) => `dprov_missing${n}`;

interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  at: number;
}
type Answer = number | 'hang';

interface Receiver {
  url: string;
  received: Received[];
  /** Requests answered so far. */
  answered(): number;
  close(): Promise<void>;
}

/** A webhook receiver: answers the n-th request (from 1) with `answer(n)`. */
async function startReceiver(answer: (n: number) => Answer): Promise<Receiver> {
  const received: Received[] = [];
  let answered = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = received.push({ headers: req.headers, raw: Buffer.concat(chunks), at: Date.now() });
      const a = answer(n);
      if (a === 'hang') return;
      answered++;
      res.writeHead(a, { 'content-type': 'text/plain' }).end(String(a));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/sendmux?token=t0ken`,
    received,
    answered: () => answered,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

interface CloudEventJson {
  specversion: string;
  id: string;
  source: string;
  type: string;
  time: string;
  subject: string;
  datacontenttype: string;
  data: Record<string, unknown>;
}
const parse = (r: Received) => JSON.parse(r.raw.toString('utf8')) as CloudEventJson;

/** Log lines (JSON), to check what the notifier says and what it never says. */
function capturingLogger(): { logger: Logger; text(): string } {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    pretty: false,
    destination: { write: (msg: string) => void lines.push(msg) },
  });
  return { logger, text: () => lines.join('') };
}

let p: Pipeline | undefined;
const receivers: Receiver[] = [];
const notifiers: Notifier[] = [];
const queues: NotifyQueue[] = [];
afterEach(async () => {
  // Receivers first: a hanging request is cut, so the notifiers close at once.
  for (const r of receivers.splice(0)) await r.close();
  for (const n of notifiers.splice(0)) await n.close();
  for (const q of queues.splice(0)) await q.close();
  await p?.stop();
  p = undefined;
});

async function receiver(answer: (n: number) => Answer = () => 200): Promise<Receiver> {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}

function notifyConfig(config: Config, url: string, overrides: Partial<Config> = {}): Config {
  return {
    ...config,
    notifyUrl: url,
    notifySecret: SECRET,
    notifyMaxAttempts: 5,
    notifyTimeoutMs: 2_000,
    ...overrides,
  };
}

async function notifier(
  config: Config,
  logger: Logger = createLogger({ level: 'silent', pretty: false }),
  options: NotifierOptions = {},
): Promise<Notifier> {
  const n = await startNotifier(config, logger, { backoffBaseMs: 20, ...options });
  notifiers.push(n);
  return n;
}

function notifyQueue(pipeline: Pipeline): NotifyQueue {
  const q = createNotifyQueue(pipeline.config.prefix, pipeline.redis);
  queues.push(q);
  return q;
}

/** Append an event to the stream as the stores do; returns its stream id. */
async function append(redis: Redis, key: string, event: StreamEvent): Promise<string> {
  return (await redis.xadd(key, '*', EVENT_FIELD, encodeEvent(event))) ?? '';
}

const until = <T>(what: string, check: () => T | undefined, timeoutMs = 10_000) =>
  waitFor(check, timeoutMs, what);

/**
 * Every event on the stream read and acknowledged by the forwarders, and every notification
 * job finished for good: any POST still to come would have come.
 */
const allDelivered = (pipeline: Pipeline) =>
  waitUntilForwarded(pipeline.redis, pipeline.keys.events, NOTIFY_GROUP, notifyQueue(pipeline));

/** This process's `notifications_total` by result (the metrics registry is per process). */
async function notificationCounts(): Promise<
  Record<'delivered' | 'retried' | 'dropped' | 'refused', number>
> {
  const counts = { delivered: 0, retried: 0, dropped: 0, refused: 0 };
  const { body } = await metricsText();
  for (const m of body.matchAll(
    /^sendmux_deactivator_notifications_total\{result="(\w+)"\} (\d+)$/gm,
  )) {
    const result = m[1] as keyof typeof counts;
    if (result in counts) counts[result] = Number(m[2]);
  }
  return counts;
}

describe('failure webhooks', () => {
  it('POSTs one signed CloudEvent for an action that fails at the API', async () => {
    p = await startPipeline();
    const r = await receiver();
    const logs = capturingLogger();
    await notifier(notifyConfig(p.config, r.url), logs.logger);

    await p.producer.enqueue(manualIntent(MISSING(1), 'nf-1'));
    await p.producer.enqueue(manualIntent(simAccountId(1), 'ok-1'));
    await p.waitFor(['nf-1', 'ok-1']);
    await until('one POST', () => (r.received.length >= 1 ? true : undefined));
    await allDelivered(p); // a second POST (a duplicate, or the success) would have come
    expect(r.received).toHaveLength(1);

    const [post] = r.received;
    if (!post) throw new Error('no POST');
    const signature = post.headers['x-sendmux-signature'];
    expect(verifyWebhookSignature(SECRET, post.raw, signature)).toBe(true);
    expect(verifyWebhookSignature(`${SECRET}-wrong`, post.raw, signature)).toBe(false);
    expect(post.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');

    const [failed] = await p.events('action.failed');
    if (!failed?.id) throw new Error('no action.failed event');
    // The data is the event as users see it (`account_id`), without the stream id.
    const streamId = failed.id;
    const stored: Partial<ReturnType<typeof eventView>> = eventView(failed);
    delete stored.id;
    const ce = parse(post);
    expect(ce).toEqual({
      specversion: '1.0',
      id: streamId,
      source: `urn:sendmux-deactivator:${encodeURIComponent(p.config.prefix)}`,
      type: 'ai.sendmux.deactivator.action.failed',
      time: failed.at,
      subject: MISSING(1),
      datacontenttype: 'application/json',
      data: stored,
    });
    expect(ce.data).toMatchObject({ http_status: 404, error_code: 'not_found' });
    expect(post.headers['webhook-id']).toBe(streamId);

    const job = await notifyQueue(p).getJob(notifyJobId(streamId));
    await expect.poll(() => job?.getState()).toBe('completed');
    // Neither the secret nor the signature is logged, stored in the job or put in the event.
    expect(logs.text()).not.toContain(SECRET);
    expect(logs.text()).not.toContain(String(signature));
    expect(logs.text()).not.toContain('t0ken');
    expect(JSON.stringify(job?.data)).not.toContain(SECRET);
    expect(post.raw.toString()).not.toContain(SECRET);
  });

  it('tries again after 500s: delivered on the third attempt with the same id and body', async () => {
    p = await startPipeline();
    const r = await receiver((n) => (n <= 2 ? 500 : 200));
    await notifier(notifyConfig(p.config, r.url), undefined, { backoffBaseMs: 100 });
    const before = await notificationCounts();

    await p.producer.enqueue(manualIntent(MISSING(2), 'nf-2'));
    await until('three POSTs', () => (r.received.length >= 3 ? true : undefined));
    await allDelivered(p);
    expect(r.received).toHaveLength(3);
    const [a, b, c] = r.received as [Received, Received, Received];
    expect(b.raw.equals(a.raw)).toBe(true);
    expect(c.raw.equals(a.raw)).toBe(true);
    expect(new Set(r.received.map((x) => x.headers['webhook-id'])).size).toBe(1);
    expect(new Set(r.received.map((x) => x.headers['x-sendmux-signature'])).size).toBe(1);
    expect(parse(c).subject).toBe(MISSING(2));
    // Exponential: 100 ms, then 200 ms (never sooner).
    expect(b.at - a.at).toBeGreaterThanOrEqual(95);
    expect(c.at - b.at).toBeGreaterThanOrEqual(195);
    const job = await notifyQueue(p).getJob(notifyJobId(parse(a).id));
    await expect.poll(() => job?.getState()).toBe('completed');
    expect((await notifyQueue(p).getJob(notifyJobId(parse(a).id)))?.attemptsMade).toBe(3);
    const after = await notificationCounts();
    expect(after.retried - before.retried).toBe(2);
    expect(after.delivered - before.delivered).toBe(1);
  });

  it('never slows the action worker: actions succeed while a hanging receiver holds every POST', async () => {
    p = await startPipeline();
    const r = await receiver(() => 'hang');
    await notifier(notifyConfig(p.config, r.url, { notifyTimeoutMs: 8_000 }));

    const keys: string[] = [];
    const t0 = Date.now();
    for (let i = 1; i <= 6; i++) {
      if (i % 2 === 1) {
        await p.producer.enqueue(manualIntent(MISSING(10 + i), `nf-h${i}`));
        keys.push(`nf-h${i}`);
      }
      await p.producer.enqueue(manualIntent(simAccountId(i), `ok-h${i}`));
      keys.push(`ok-h${i}`);
    }
    const states = await p.waitFor(keys, 5_000);
    const tookMs = Date.now() - t0;
    expect([...states.values()].filter((s) => s === 'succeeded')).toHaveLength(6);
    expect([...states.values()].filter((s) => s === 'failed')).toHaveLength(3);
    // Every failure's POST reached the receiver and hangs there, unanswered.
    await until('three hanging POSTs', () => (r.received.length >= 3 ? true : undefined));
    expect(r.answered()).toBe(0);
    expect(tookMs).toBeLessThan(5_000);
    const q = notifyQueue(p);
    expect(await q.getJobCounts('active', 'completed')).toMatchObject({ active: 3, completed: 0 });
    // Still more actions go through while they hang.
    await p.producer.enqueue(manualIntent(simAccountId(7), 'ok-h7'));
    expect((await p.waitFor(['ok-h7'], 3_000)).get('ok-h7')).toBe('succeeded');
    expect(r.answered()).toBe(0);
  });

  it('does not try again after a 400', async () => {
    p = await startPipeline();
    const r = await receiver(() => 400);
    const logs = capturingLogger();
    await notifier(notifyConfig(p.config, r.url), logs.logger);
    const before = await notificationCounts();

    await p.producer.enqueue(manualIntent(MISSING(3), 'nf-3'));
    await until('one POST', () => (r.received.length >= 1 ? true : undefined));
    const id = parse(r.received[0] as Received).id;
    const job = await notifyQueue(p).getJob(notifyJobId(id));
    await expect.poll(() => job?.getState()).toBe('failed');
    await allDelivered(p); // a retry would be a delayed job, waited for here
    expect(r.received).toHaveLength(1);
    const failedJob = await notifyQueue(p).getJob(notifyJobId(id));
    expect(failedJob?.failedReason).toBe('receiver answered 400');
    expect(failedJob?.attemptsMade).toBe(1);
    expect(logs.text()).toContain('refused by the receiver');
    const after = await notificationCounts();
    expect(after.refused - before.refused).toBe(1);
    expect(after.retried - before.retried).toBe(0);
  });

  it('forwards breaker.tripped and window events, and nothing else', async () => {
    p = await startPipeline({ workers: 0 });
    const r = await receiver();
    await notifier(notifyConfig(p.config, r.url));
    const at = new Date().toISOString();
    const occ = { occurrence: '20260101T000000Z', starts_at: at, ends_at: at, at };
    const tripped: BreakerTrippedEvent = {
      type: 'breaker.tripped',
      actor: 'alice',
      account_id: simAccountId(4),
      trip_id: 'trip_1',
      reason: 'bounce_rate',
      numbers: {
        window_s: 900,
        delivered: 100,
        bounced: 30,
        hard_bounced: 30,
        complained: 0,
        rejected: 0,
        bounce_rate: 0.23,
        complaint_rate: 0,
      },
      idempotency_key: `breaker:${simAccountId(4)}:trip_1`,
      at,
    };
    const reset: BreakerResetEvent = {
      type: 'breaker.reset',
      actor: 'alice',
      account_id: simAccountId(4),
      trip_id: 'trip_1',
      idempotency_key: null,
      still_held_by: [],
      base: 'unknown',
      at,
    };
    const started: WindowStartedEvent = {
      type: 'window.started',
      actor: 'alice',
      window_id: 'win_a',
      ...occ,
      late_ms: 0,
      switched_off: [simAccountId(1), simAccountId(2)],
      already_off: [],
      missing: [],
      not_switched_off: [],
    };
    const ended: WindowEndedEvent = {
      type: 'window.ended',
      actor: 'alice',
      window_id: 'win_a',
      ...occ,
      reactivated: [simAccountId(1)],
      still_held: [{ account_id: simAccountId(2), held_by: ['manual'] }],
      stayed_off: [],
      base_unknown: [],
      gone: [],
      cancelled: false,
    };
    const skipped: WindowSkippedEvent = {
      type: 'window.skipped',
      actor: 'alice',
      window_id: 'win_b',
      ...occ,
      reason: 'ended_before_start',
    };
    const ids = new Map<string, StreamEvent>();
    for (const e of [tripped, reset, started, ended, skipped]) {
      ids.set(await append(p.redis, p.keys.events, e), e);
    }
    await until('four POSTs', () => (r.received.length >= 4 ? true : undefined));
    await allDelivered(p);
    expect(r.received).toHaveLength(4);
    const got = r.received.map(parse).sort((a, b) => a.id.localeCompare(b.id));
    expect(got.map((c) => [c.type, c.subject])).toEqual([
      ['ai.sendmux.deactivator.breaker.tripped', simAccountId(4)],
      ['ai.sendmux.deactivator.window.started', 'win_a'],
      ['ai.sendmux.deactivator.window.ended', 'win_a'],
      ['ai.sendmux.deactivator.window.skipped', 'win_b'],
    ]);
    for (const c of got) {
      const sent = ids.get(c.id);
      expect(sent && c.data).toEqual(sent && eventView(sent));
      expect(c.time).toBe(at);
    }
    for (const post of r.received) {
      expect(verifyWebhookSignature(SECRET, post.raw, post.headers['x-sendmux-signature'])).toBe(
        true,
      );
    }
    expect(got[1]?.data.switched_off).toEqual([simAccountId(1), simAccountId(2)]);
  });

  it('two forwarders (two worker processes) on one stream deliver each event once', async () => {
    p = await startPipeline({ workers: 0 });
    const r = await receiver();
    const config = notifyConfig(p.config, r.url);
    await notifier(config, undefined, { consumer: 'w1' });
    await notifier(config, undefined, { consumer: 'w2' });
    const at = new Date().toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const skipped: WindowSkippedEvent = {
        type: 'window.skipped',
        actor: 'alice',
        window_id: `win_${i}`,
        occurrence: '20260101T000000Z',
        starts_at: at,
        ends_at: at,
        reason: 'ended_before_start',
        at,
      };
      ids.push(await append(p.redis, p.keys.events, skipped));
      if (i % 10 === 9) await sleep(20); // spread over several reads
    }
    await until('40 POSTs', () => (r.received.length >= 40 ? true : undefined));
    await allDelivered(p);
    expect(r.received).toHaveLength(40);
    expect(new Set(r.received.map((x) => parse(x).id))).toEqual(new Set(ids));
    const pending = (await p.redis.xpending(p.keys.events, NOTIFY_GROUP)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
    const consumers = (await p.redis.call(
      'XINFO',
      'CONSUMERS',
      p.keys.events,
      NOTIFY_GROUP,
    )) as unknown[][];
    expect(consumers.map((c) => c[1]).sort()).toEqual(['w1', 'w2']);
  });

  it('a forwarder that died between add and ack: its events are taken over and delivered once', async () => {
    p = await startPipeline({ workers: 0 });
    const r = await receiver();
    const config = notifyConfig(p.config, r.url);
    await p.redis.xgroup('CREATE', p.keys.events, NOTIFY_GROUP, '$', 'MKSTREAM');
    const at = new Date().toISOString();
    const event = (windowId: string): WindowSkippedEvent => ({
      type: 'window.skipped',
      actor: 'alice',
      window_id: windowId,
      occurrence: '20260101T000000Z',
      starts_at: at,
      ends_at: at,
      reason: 'ended_before_start',
      at,
    });
    const id1 = await append(p.redis, p.keys.events, event('win_added'));
    const id2 = await append(p.redis, p.keys.events, event('win_not_added'));
    // The dead forwarder read both, added the first one's job, and died before acking.
    const reply = (await p.redis.call(
      'XREADGROUP',
      'GROUP',
      NOTIFY_GROUP,
      'dead',
      'COUNT',
      10,
      'STREAMS',
      p.keys.events,
      '>',
    )) as [string, [string, string[]][]][];
    const entries = (reply[0]?.[1] ?? []).map(([id, fields]) => ({
      id,
      event: decodeEntry(id, fields),
    }));
    expect(entries.map((e) => e.id)).toEqual([id1, id2]);
    await forwardEntries(notifyQueue(p), p.config.prefix, entries.slice(0, 1), {
      attempts: 5,
      backoffBaseMs: 20,
    });

    await notifier(config, undefined, { consumer: 'alive', claimIdleMs: 200 });
    await until('two POSTs', () => (r.received.length >= 2 ? true : undefined));
    await allDelivered(p); // claimed and acknowledged: no claim round has anything left
    expect(r.received.map((x) => parse(x).subject).sort()).toEqual(['win_added', 'win_not_added']);
    const pending = (await p.redis.xpending(p.keys.events, NOTIFY_GROUP)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  it('gives up starting when stopped while Redis is unreachable, leaving nothing open', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => {
          resolve(port);
        });
      });
    });
    const config = notifyConfig(testConfig(), 'http://127.0.0.1:9/x', {
      redisUrl: `redis://127.0.0.1:${closedPort}`,
    });
    const stop = new AbortController();
    const starting = startNotifier(config, createLogger({ level: 'silent', pretty: false }), {
      signal: stop.signal,
    });
    await sleep(300);
    const t0 = Date.now();
    stop.abort();
    await expect(starting).rejects.toThrow(/stopped before failure webhooks started/);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('runs in the worker process when NOTIFY_URL is set; a notifier that cannot start is logged, not fatal', async () => {
    p = await startPipeline({ workers: 0 });
    const r = await receiver();
    const stop = new AbortController();
    let ready = false;
    const running = runWorker(
      notifyConfig(p.config, r.url, { windowConcurrency: 0 }),
      createLogger({ level: 'silent', pretty: false }),
      {
        signal: stop.signal,
        onReady: () => {
          ready = true;
        },
      },
    );
    await until('worker ready', () => (ready ? true : undefined));
    await p.producer.enqueue(manualIntent(MISSING(4), 'nf-4'));
    await until('one POST', () => (r.received.length >= 1 ? true : undefined));
    expect(parse(r.received[0] as Received).subject).toBe(MISSING(4));
    stop.abort();
    await running;

    // NOTIFY_SECRET missing (the config check would refuse it; a library caller might not).
    const logs = capturingLogger();
    const stop2 = new AbortController();
    let ready2 = false;
    const running2 = runWorker(
      { ...notifyConfig(p.config, r.url, { windowConcurrency: 0 }), notifySecret: undefined },
      logs.logger,
      {
        signal: stop2.signal,
        onReady: () => {
          ready2 = true;
        },
      },
    );
    await until('worker ready', () => (ready2 ? true : undefined));
    expect(logs.text()).toContain('failure webhooks could not start');
    await p.producer.enqueue(manualIntent(simAccountId(9), 'ok-9'));
    expect((await p.waitFor(['ok-9'], 5_000)).get('ok-9')).toBe('succeeded');
    stop2.abort();
    await running2;
  });
});
