/** A ready-to-use producer with its own connections, for the CLI, the demo and library users. */
import type { Config } from '../config.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { createRedis } from '../redis/connect.js';
import { deadline, quitWithin, within } from '../shutdown.js';
import { keysFor } from '../store/keys.js';
import { createProducer, type Producer } from './enqueue.js';
import { createActionQueue, createUrgentQueue, type ActionQueue } from './queue.js';
import { waitForIntents, type WaitOptions, type WaitResult } from './wait.js';

export interface ProducerHandle extends Producer {
  readonly queue: ActionQueue;
  /** The breaker's intents' queue (queue.ts, createUrgentQueue). */
  readonly urgentQueue: ActionQueue;
  readonly redis: Redis;
  /** Wait until every key's intent is terminal (or the timeout / abort in `options`). */
  wait(idempotencyKeys: readonly string[], options?: WaitOptions): Promise<WaitResult>;
  /** Close within `timeoutMs` (default 5 s), whatever Redis does; never throws. */
  close(timeoutMs?: number): Promise<void>;
}

/** How long a producer's close waits for Redis before dropping its connection. */
const CLOSE_TIMEOUT_MS = 5_000;

export function openProducer(config: Config): ProducerHandle {
  // Producers fail fast when Redis is down instead of queueing commands forever.
  const redis = createRedis(config, { maxRetriesPerRequest: 3 });
  const queue = createActionQueue(config, redis);
  // Connection errors reach callers as rejected commands; the listener only stops the
  // default "unhandled error" printing.
  queue.on('error', () => undefined);
  const urgentQueue = createUrgentQueue(config, redis);
  urgentQueue.on('error', () => undefined);
  const producer = createProducer({ redis, queue, urgentQueue, config });
  const keys = keysFor(config.prefix);
  return {
    ...producer,
    queue,
    urgentQueue,
    redis,
    wait: (idempotencyKeys, options) => waitForIntents(redis, keys, idempotencyKeys, options),
    async close(timeoutMs = CLOSE_TIMEOUT_MS) {
      // Bounded whatever Redis does (down, frozen): past the time, the connection is dropped.
      const left = deadline(timeoutMs);
      await within(Promise.all([queue.close(), urgentQueue.close()]), left());
      await quitWithin(redis, left());
    },
  };
}
