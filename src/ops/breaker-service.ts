/**
 * The breaker's long-running part, run by `serve` next to the HTTP server: the webhook inbox
 * consumer (stored events -> account -> signal -> trip) and the timed steps (half-open,
 * close). Any number of server processes may run it: they share the inbox through one
 * consumer group (each event processed by one of them; one a crashed process left unacked is
 * taken over after `claimIdleMs`) and every trip, reset and tick is one atomic step in Redis.
 */
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { countWebhookEvent } from '../metrics/metrics.js';
import { processWebhook } from '../producers/breaker/process-webhook.js';
import { createResolver, parseSenderMap, type Resolver } from '../producers/breaker/resolve.js';
import { budgetedLister } from '../producers/bulk/accounts.js';
import { createRedis } from '../redis/connect.js';
import type { SendmuxClient } from '../sendmux/client.js';
import { deadline, dropRedis, quitWithin, firstStep, unlessAborted, within } from '../shutdown.js';
import { keysFor } from '../store/keys.js';
import { observeAccounts, type ObservedAccount } from '../store/observe-accounts.js';
import { spendBudget } from '../store/spend-budget.js';
import { deadLetterInbox, readDeadLetters, type DeadLetter } from '../store/webhook-inbox-dead.js';
import { readInbox, type InboxEntry } from '../store/webhook-inbox-read.js';
import { INBOX_GROUP, readInboxState, settleInbox } from '../store/webhook-inbox-trim.js';
import {
  countWebhookResult,
  readWebhookStats,
  type WebhookResult,
  type WebhookStats,
} from '../store/webhook-stats.js';
import { limiterFor } from '../worker/backoff.js';
import { openBreaker, type BreakerHandle } from './breaker.js';

/** The consumer group of the breaker on the webhook inbox (its progress trims the inbox). */
export { INBOX_GROUP };

export interface BreakerServiceOptions {
  /** This process's name in the inbox's consumer group. @defaultValue `<host>-<pid>` */
  consumer?: string;
  /** How often the timed steps run. @defaultValue 1000 */
  tickMs?: number;
  /** Inbox entries left unacknowledged this long are processed again. @defaultValue 30000 */
  claimIdleMs?: number;
  /**
   * An entry whose processing failed this many deliveries is moved to the dead letters
   * (store/webhook-inbox-dead.ts) instead of being tried again. @defaultValue {@link MAX_DELIVERIES}
   */
  maxDeliveries?: number;
  /**
   * With a signal, start-up waits for Redis (tried again every second) until it answers or the
   * signal aborts: then what was opened is dropped and the start rejects with an AbortError.
   * Without one, a start-up step that fails rejects the start.
   */
  signal?: AbortSignal;
}

/**
 * Deliveries of one inbox entry before the breaker gives up on it. An outage fails every entry
 * and is retried every second, but an entry is delivered again only once `claimIdleMs` has
 * passed, so 10 deliveries are about 5 minutes of failing on that entry while Redis answers.
 */
export const MAX_DELIVERIES = 10;

/**
 * What became of processed webhook events, the latest dead letters (without bodies), and what
 * the inbox holds now (`backlog`: events not yet processed).
 */
export interface WebhookStatsView extends WebhookStats {
  dead_letters: Omit<DeadLetter, 'body'>[];
  inbox: { backlog: number; entries: number; bytes: number };
}

export interface BreakerService {
  breaker: BreakerHandle;
  webhookStats(): Promise<WebhookStatsView>;
  /** Stop within `timeoutMs` (default SHUTDOWN_TIMEOUT_MS) whatever Redis does; never throws. */
  close(timeoutMs?: number): Promise<void>;
}

export async function startBreakerService(
  config: Config,
  logger: Logger,
  options: BreakerServiceOptions = {},
): Promise<BreakerService> {
  const log = logger.child({ component: 'breaker' });
  const keys = keysFor(config.prefix);
  const breaker = openBreaker(config);
  const senderMap = parseSenderMap(config.breakerSenderMap);
  // The inbox read blocks: its own connection.
  const reader = createRedis(config, { maxRetriesPerRequest: null }, logger);
  const redis = createRedis(config, { maxRetriesPerRequest: 3 }, logger);
  let client: SendmuxClient | undefined;
  if (config.apiKey) {
    const { createSendmuxClient } = await import('../sendmux/client.js');
    client = createSendmuxClient({
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      timeoutMs: config.timeoutMs,
    });
  }
  const budget = limiterFor(config.rateLimitPerMinute);
  const api = client;
  // Every API read spends the workers' rate budget first, like an action.
  const resolver: Resolver = createResolver({
    senderMap,
    // The listing is also the freshest knowledge of what each account is: recorded as it
    // streams by (forward-only by updated_at), it is the base a breaker trip's hold takes
    // (store/known-state.ts), so an account switched off outside stays off after a reset.
    listAccounts: api
      ? () =>
          recording(budgetedLister({ client: api, redis, keys, budget }).list({}), (items) =>
            observeAccounts(redis, keys, items),
          )
      : undefined,
    searchLogs: api
      ? (messageId) =>
          api.searchDeliveryLogs(messageId, {
            beforeRequest: () => spendBudget(redis, keys, budget),
          })
      : undefined,
    refreshMs: config.breakerAccountsRefreshS * 1000,
    log,
  });
  let recovered: number;
  try {
    await unlessAborted(resolver.start(), options.signal);
    recovered = await firstStep(() => breaker.recover(), options.signal, log, 'breaker');
  } catch (err) {
    // Stopped (or failed) while starting: nothing opened here may outlive the start.
    resolver.close();
    client?.close();
    dropRedis(reader);
    dropRedis(redis);
    await breaker.close(0);
    throw err;
  }
  if (recovered > 0)
    log.warn({ recovered }, 'enqueued what a crash had left unenqueued (trips, activations)');

  const consumer = options.consumer ?? `${hostname()}-${process.pid}`;
  const maxDeliveries = options.maxDeliveries ?? MAX_DELIVERIES;
  const caps = { maxLen: config.webhookInboxMaxLen, maxBytes: config.webhookInboxMaxBytes };
  /** Move an entry that failed its last allowed delivery to the dead letters. */
  const giveUp = async (entry: InboxEntry, error: Error): Promise<boolean> => {
    if (!(await deadLetterInbox(redis, keys, INBOX_GROUP, entry, error.message))) return false;
    await countWebhookResult(redis, keys, 'dead_lettered');
    countWebhookEvent('dead_lettered');
    log.error(
      { inbox_id: entry.id, type: entry.type, deliveries: entry.deliveries, err: error.message },
      'gave up on a webhook event: moved to the dead letters',
    );
    return true;
  };
  const stop = new AbortController();
  const stopped = () => stop.signal.aborted;
  const consume = (async () => {
    while (!stopped()) {
      try {
        const entries = await readInbox(reader, keys, {
          group: INBOX_GROUP,
          consumer,
          count: 100,
          blockMs: 1_000,
          claimIdleMs: options.claimIdleMs ?? 30_000,
        });
        const done: string[] = [];
        let gaveUp = false;
        let failed: Error | undefined;
        try {
          // One entry's failure neither stops the others nor is acknowledged: it is delivered
          // again later, and moved to the dead letters once it has failed maxDeliveries times.
          for (const entry of entries) {
            let result: WebhookResult;
            try {
              result = await processWebhook({ redis, keys, breaker, resolver }, entry.body);
            } catch (err) {
              const error = err instanceof Error ? err : new Error(String(err));
              if (entry.deliveries >= maxDeliveries)
                gaveUp = (await giveUp(entry, error)) || gaveUp;
              else failed ??= error;
              continue;
            }
            // Counted in this process (each entry goes to one consumer of the group), not read
            // from the shared webhook-stats hash: every server would report the same total.
            countWebhookEvent(result);
            if (result === 'tripped')
              log.warn({ inbox_id: entry.id }, 'breaker tripped by a webhook');
            done.push(entry.id);
          }
        } finally {
          // One step for the batch: XACK, then trim what is processed beyond the inbox's caps
          // (never an unprocessed entry: store/webhook-inbox-trim.ts). An entry processed but not
          // acknowledged (a crash) is processed again later, and counts once (its signal id is
          // deduped). A dead letter was acknowledged as it moved: trim after it too.
          if (done.length > 0 || gaveUp) await settleInbox(redis, keys, INBOX_GROUP, done, caps);
        }
        if (failed !== undefined) throw failed;
      } catch (err) {
        if (stopped()) break;
        log.error({ err: String(err) }, 'processing the webhook inbox failed; retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  })();
  let ticking: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    // One tick at a time per process (a slow Redis must not pile them up).
    ticking ??= breaker
      .tick()
      .then(
        (r) => {
          if (r.halfOpen.length > 0 || r.closed.length > 0) log.info(r, 'breaker steps');
        },
        (err: unknown) => {
          log.error({ err: String(err) }, 'breaker tick failed');
        },
      )
      .finally(() => {
        ticking = undefined;
      });
  }, options.tickMs ?? 1_000);

  return {
    breaker,
    webhookStats: async () => {
      const [stats, dead, inbox] = await Promise.all([
        readWebhookStats(redis, keys),
        readDeadLetters(redis, keys, 20),
        readInboxState(redis, keys, INBOX_GROUP),
      ]);
      return { ...stats, dead_letters: dead.map(({ body: _body, ...rest }) => rest), inbox };
    },
    async close(timeoutMs = config.shutdownTimeoutMs) {
      const left = deadline(timeoutMs);
      stop.abort();
      clearInterval(timer);
      resolver.close();
      // The blocking read ends within its block time, but never while it sits in the offline
      // queue (Redis down) or waits for a frozen Redis: dropping its connection rejects it now.
      dropRedis(reader);
      // A batch being processed finishes (and is acknowledged) if Redis answers in time; what
      // is cut short stays pending and is processed again (its signal id is deduped).
      await within(consume, left());
      await within(ticking, left());
      client?.close();
      await breaker.close(left());
      await quitWithin(redis, left());
    },
  };
}

/** Passes the items on, recording them a page at a time (and the rest at the end). */
async function* recording<T extends ObservedAccount>(
  items: AsyncIterable<T>,
  record: (page: T[]) => Promise<void>,
): AsyncIterable<T> {
  let page: T[] = [];
  for await (const item of items) {
    page.push(item);
    yield item;
    if (page.length >= 200) {
      await record(page);
      page = [];
    }
  }
  if (page.length > 0) await record(page);
}
