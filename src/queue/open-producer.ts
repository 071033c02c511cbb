/** A ready-to-use producer with its own connections, for the CLI, the demo and library users. */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { createRedis } from '../redis.js';
import { keysFor } from '../store/keys.js';
import { createProducer, type Producer } from './producer.js';
import { createActionQueue, type ActionQueue } from './queue.js';
import { waitForIntents, type WaitOptions, type WaitResult } from './wait.js';

export interface ProducerHandle extends Producer {
  readonly queue: ActionQueue;
  readonly redis: Redis;
  /** Wait until every key's intent is terminal (or the timeout / abort in `options`). */
  wait(idempotencyKeys: readonly string[], options?: WaitOptions): Promise<WaitResult>;
  close(): Promise<void>;
}

export function openProducer(config: Config): ProducerHandle {
  // Producers fail fast when Redis is down instead of queueing commands forever.
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const queue = createActionQueue(config, redis);
  // Connection errors reach callers as rejected commands; the listener only stops the
  // default "unhandled error" printing.
  queue.on('error', () => undefined);
  const producer = createProducer({ redis, queue, config });
  const keys = keysFor(config.prefix);
  return {
    ...producer,
    queue,
    redis,
    wait: (idempotencyKeys, options) => waitForIntents(redis, keys, idempotencyKeys, options),
    async close() {
      await queue.close();
      await redis.quit();
    },
  };
}
