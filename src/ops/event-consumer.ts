/** A consumer-group reader of the events stream with its own connection, for library users. */
import type { Config } from '../config.js';
import { createRedis } from '../redis/connect.js';
import {
  createEventConsumer,
  type EventConsumer,
  type EventConsumerOptions,
} from '../store/events.js';
import { keysFor } from '../store/keys.js';

export interface EventConsumerHandle extends EventConsumer {
  close(): Promise<void>;
}

/** At-least-once delivery of every event: read, handle, ack; `pending()` after a crash. */
export function openEventConsumer(
  config: Pick<Config, 'redisUrl' | 'redisClusterNodes' | 'prefix'>,
  options: EventConsumerOptions,
): EventConsumerHandle {
  const redis = createRedis(config);
  const consumer = createEventConsumer(redis, keysFor(config.prefix), options);
  return {
    ...consumer,
    async close() {
      await redis.quit();
    },
  };
}
