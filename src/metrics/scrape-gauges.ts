/**
 * The gauges of shared state, read from Redis at scrape time through the newest registered
 * {@link ScrapeSource} (scrape-source.ts makes one; http/probe-routes.ts registers it per server):
 * jobs per queue and state, breakers by state, the deployment's breaker trips, the webhook inbox's
 * backlog. Each read is bounded by
 * {@link SCRAPE_PART_TIMEOUT_MS}; a part Redis does not answer in time is left out of that scrape
 * and counted in `scrape_errors_total` (metrics.ts lists every metric).
 */
import { Counter, Gauge } from 'prom-client';
import { countScrapeError, metricName as name, registry, within } from './metrics.js';

/** Longest wait for one scrape-time read of Redis. */
export const SCRAPE_PART_TIMEOUT_MS = 1_000;
/** Breakers read per scrape (the most recently active accounts). */
export const BREAKER_SCAN_MAX = 10_000;

/** Where scrape-time gauges read shared state (http/probe-routes.ts makes one per server). */
export interface ScrapeSource {
  /** Job counts by state, per queue name. */
  queueCounts(): Promise<Record<string, Record<string, number>>>;
  /** Breakers by state. */
  breakerStates(): Promise<Record<string, number>>;
  /** The deployment's breaker trips so far, by reason, whichever process made them. */
  breakerTrips(): Promise<Record<string, number>>;
  /** What the webhook inbox holds: entries not yet processed (`backlog`), all of them, bytes. */
  webhookInbox(): Promise<{ backlog: number; entries: number; bytes: number }>;
}

const sources: ScrapeSource[] = [];

/**
 * Read scrape-time gauges from `source` (the newest one registered wins: one per process in
 * practice, and every server of a process has the same prefix). @returns its removal.
 */
export function addScrapeSource(source: ScrapeSource): () => void {
  sources.push(source);
  return () => {
    const i = sources.indexOf(source);
    if (i >= 0) sources.splice(i, 1);
  };
}

/** One scrape-time read: bounded, and left out (counted) on an error. */
async function scrapePart<T>(part: string, read: (s: ScrapeSource) => Promise<T>) {
  const source = sources.at(-1);
  if (!source) return undefined;
  try {
    return await within(read(source), SCRAPE_PART_TIMEOUT_MS, part);
  } catch {
    countScrapeError(part);
    return undefined;
  }
}

new Gauge({
  name: name('queue_jobs'),
  help: 'Jobs per queue and state, read from Redis at scrape time.',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    const counts = await scrapePart('queue_jobs', (s) => s.queueCounts());
    for (const [queue, states] of Object.entries(counts ?? {})) {
      for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
    }
  },
});

new Gauge({
  name: name('breakers'),
  help: 'Breakers by state, read from Redis at scrape time.',
  labelNames: ['state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    const states = await scrapePart('breakers', (s) => s.breakerStates());
    for (const [state, n] of Object.entries(states ?? {})) this.set({ state }, n);
  },
});

/**
 * Every trip of the deployment (a count kept in Redis by the process that tripped: a server, a
 * worker, the CLI, a library user), where `breaker_trips_total` counts this process's own. A
 * counter: it only grows (until the prefix is dropped). The same in every process: aggregate
 * with `max`, not `sum`.
 */
new Counter({
  name: name('breaker_trips_shared_total'),
  help: 'Breaker trips made by any process of this deployment (the CLI included), by reason: counted in Redis, read at scrape time (the same in every process).',
  labelNames: ['reason'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    const trips = await scrapePart('breaker_trips', (s) => s.breakerTrips());
    for (const [reason, n] of Object.entries(trips ?? {})) {
      if (n > 0) this.inc({ reason }, n);
    }
  },
});

/**
 * The webhook inbox's backlog: events stored (answered 202) but not yet processed by a breaker
 * consumer (never read, or read and not yet acknowledged). It grows while no `start`/`serve`
 * process consumes, or while they fall behind; at WEBHOOK_INBOX_BACKLOG_MAX new events are
 * refused with 503 `inbox_full` (Sendmux retries them). The same in every process: aggregate with
 * `max`, not `sum`.
 */
new Gauge({
  name: name('webhook_inbox_backlog'),
  help: 'Webhook events stored in the inbox but not yet processed (read from Redis at scrape time; the same in every process).',
  registers: [registry],
  async collect() {
    this.reset();
    const inbox = await scrapePart('webhook_inbox', (s) => s.webhookInbox());
    if (inbox) this.set(inbox.backlog);
  },
});
