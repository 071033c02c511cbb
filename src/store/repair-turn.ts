/**
 * One worker at a time repairs stuck intents: whoever sets the turn key first. The turn is
 * given back when the repair ends (only by its holder), and expires by itself if that worker
 * dies.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

const giveBackScript = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** @returns a release function when this worker got the turn, else undefined. */
export async function takeRepairTurn(
  redis: Redis,
  keys: Keys,
  ms: number,
): Promise<(() => Promise<void>) | undefined> {
  const token = randomUUID();
  if ((await redis.set(keys.repairTurn, token, 'PX', ms, 'NX')) !== 'OK') return undefined;
  return async () => {
    await giveBackScript(redis, [keys.repairTurn], [token]);
  };
}
