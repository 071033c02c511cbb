/**
 * A maintenance window's record: the hash `<prefix>:window:<id>` (settings as JSON, state,
 * times) and the index of windows. The schedule itself lives in BullMQ (queue/window-queue.ts);
 * this record is what every step reads first, so a cancelled window never starts again.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

export const WINDOW_STATES = ['scheduled', 'cancelled'] as const;
export type WindowState = (typeof WINDOW_STATES)[number];

/** What the record keeps; `targets` and `schedule` are the checked spec, as JSON. */
export interface WindowRecord<Targets = unknown, Schedule = unknown> {
  id: string;
  targets: Targets;
  schedule: Schedule;
  reason: string;
  state: WindowState;
  created_at: string;
  cancelled_at: string | null;
  /** Who created it (model/actor.ts); null for windows stored before actors existed. */
  created_by: string | null;
  /** Who cancelled it; null if nobody did (or before actors existed). */
  cancelled_by: string | null;
}

// KEYS: window, index. ARGV: id, targets JSON, schedule JSON, reason, now ms, actor ('' none).
const createScript = defineScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'targets', ARGV[2], 'schedule', ARGV[3],
  'reason', ARGV[4], 'state', 'scheduled', 'created_at', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'created_by', ARGV[6]) end
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
return 1
`);

/** Store a new window; false when the id is taken (nothing changed). */
export async function createWindowRecord(
  redis: Redis,
  keys: Keys,
  w: { id: string; targets: unknown; schedule: unknown; reason: string },
  now = new Date(),
  actor = '',
): Promise<boolean> {
  const created = await createScript(
    redis,
    [keys.window(w.id), keys.windowIndex],
    [w.id, JSON.stringify(w.targets), JSON.stringify(w.schedule), w.reason, now.getTime(), actor],
  );
  return created === 1;
}

/** Remove a window whose scheduling failed right after it was stored. */
export async function dropWindowRecord(redis: Redis, keys: Keys, id: string): Promise<void> {
  await redis.multi().del(keys.window(id)).zrem(keys.windowIndex, id).exec();
}

export async function readWindowRecord<T, S>(
  redis: Redis,
  keys: Keys,
  id: string,
): Promise<WindowRecord<T, S> | undefined> {
  const h = await redis.hgetall(keys.window(id));
  if (!h.id) return undefined;
  const cancelled = Number(h.cancelled_at);
  return {
    id: h.id,
    targets: JSON.parse(h.targets ?? 'null') as T,
    schedule: JSON.parse(h.schedule ?? 'null') as S,
    reason: h.reason ?? '',
    state: h.state === 'cancelled' ? 'cancelled' : 'scheduled',
    created_at: new Date(Number(h.created_at)).toISOString(),
    cancelled_at: h.cancelled_at ? new Date(cancelled).toISOString() : null,
    created_by: h.created_by || null,
    cancelled_by: h.cancelled_by || null,
  };
}

/** Window ids, newest first. */
export async function listWindowIds(redis: Redis, keys: Keys, limit = 1000): Promise<string[]> {
  return redis.zrevrange(keys.windowIndex, 0, Math.max(0, limit - 1));
}

// KEYS: window. ARGV: now ms, actor ('' none). Returns the state before ('' when there is no
// such window).
const cancelScript = defineScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return '' end
if state == 'scheduled' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'cancelled_at', ARGV[1])
  if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'cancelled_by', ARGV[2]) end
end
return state
`);

/** Mark a window cancelled; answers its state before (undefined: no such window). */
export async function cancelWindowRecord(
  redis: Redis,
  keys: Keys,
  id: string,
  now = new Date(),
  actor = '',
): Promise<WindowState | undefined> {
  const before = (await cancelScript(redis, [keys.window(id)], [now.getTime(), actor])) as string;
  return before === '' ? undefined : (before as WindowState);
}

/** Replace a window's schedule (a one-off window extended). */
export async function setWindowSchedule(
  redis: Redis,
  keys: Keys,
  id: string,
  schedule: unknown,
): Promise<void> {
  await redis.hset(keys.window(id), 'schedule', JSON.stringify(schedule));
}
