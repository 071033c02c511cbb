/** A ready-to-use producer with its own connections, for the CLI, the demo and library users. */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { createRedis } from '../redis.js';
import { createProducer, type Producer } from './producer.js';
import { createActionQueue, type ActionQueue } from './queue.js';

export interface ProducerHandle extends Producer {
  readonly queue: ActionQueue;
  readonly redis: Redis;
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
  return {
    ...producer,
    queue,
    redis,
    async close() {
      await queue.close();
      await redis.quit();
    },
  };
}
