/** Delete every key under a prefix, incrementally (SCAN + UNLINK, never KEYS). */
import type { Redis } from 'ioredis';

export async function dropPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let dropped = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) dropped += await redis.unlink(...found);
  } while (cursor !== '0');
  return dropped;
}
