/** Delete every key under a prefix, incrementally (SCAN + UNLINK, never KEYS). */
import { Cluster } from 'ioredis';
import type { RedisClient as Redis } from '../redis/connect.js';

export async function dropPrefix(redis: Redis, prefix: string): Promise<number> {
  // SCAN has no key to route by: on a Cluster, ask every master (during a slot migration the
  // prefix's keys are on two of them); UNLINK then goes wherever each key lives.
  const scanned = redis instanceof Cluster ? redis.nodes('master') : [redis];
  let dropped = 0;
  for (const node of scanned) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) dropped += await redis.unlink(...found);
    } while (cursor !== '0');
  }
  return dropped;
}
