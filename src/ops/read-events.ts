/** Recent events and a live tail (the `events` CLI command). */
import type { Config } from '../config.js';
import { type StreamEvent, type EventType } from '../model.js';
import { createRedis } from '../redis/connect.js';
import { followEvents, readRecentEvents } from '../store/events.js';
import { keysFor } from '../store/keys.js';

export interface ReadEventsOptions {
  type?: EventType;
  limit?: number;
  /** After the recent events, keep printing new ones until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Called once the history is printed and the live tail begins. */
  onFollowing?: () => void;
}

export async function readEvents(
  config: Config,
  options: ReadEventsOptions,
  onEvent: (event: StreamEvent) => void,
): Promise<void> {
  const redis = createRedis(config, { maxRetriesPerRequest: 3 });
  const keys = keysFor(config.prefix);
  try {
    const recent = await readRecentEvents(redis, keys, {
      type: options.type,
      limit: options.limit,
    });
    recent.forEach(onEvent);
    if (!options.follow) return;
    // From the newest event there is (not the newest one shown: a type filter may hide later
    // ones), resolved before the tail starts, so nothing arriving now is missed or repeated.
    const newest = (await redis.xrevrange(keys.events, '+', '-', 'COUNT', 1))[0]?.[0];
    const after = newest ?? '0-0';
    options.onFollowing?.();
    const abort = () => {
      redis.disconnect();
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      for await (const event of followEvents(redis, keys, {
        type: options.type,
        after,
        blockMs: 1_000,
        signal: options.signal,
      })) {
        onEvent(event);
      }
    } catch (err) {
      if (!options.signal?.aborted) throw err;
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  } finally {
    if (redis.status !== 'end') await redis.quit().catch(() => undefined);
  }
}
