/**
 * Deleting a maintenance window's records (`window delete`, `DELETE /v1/windows/:id`): its hash,
 * its place in the index, its occurrences and their index go in one script, with the
 * `window.deleted` event, and only when no occurrence is running (`starting` or `started`: its
 * holds are taken, and only its end releases them). Holds and accounts are never touched here:
 * a window that is over released its holds at its end.
 *
 * The occurrences are read first and declared as keys (scripts never build keys); the script
 * checks the index still holds exactly those, so one begun meanwhile is seen (`changed`).
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import { EVENT_FIELD } from './event-codec.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

// KEYS: window, windows index, occurrences index, events, then the occurrences' hashes.
// ARGV: window id, event JSON, events max length, then the occurrence ids (as in KEYS).
// Returns 'deleted', 'none' (no such window), 'running:<occurrence>' or 'changed'.
const deleteScript = defineScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'none' end
local n = #KEYS - 4
if redis.call('ZCARD', KEYS[3]) ~= n then return 'changed' end
for i = 1, n do
  local state = redis.call('HGET', KEYS[4 + i], 'state')
  if state == 'starting' or state == 'started' then return 'running:' .. ARGV[3 + i] end
  if redis.call('ZSCORE', KEYS[3], ARGV[3 + i]) == false then return 'changed' end
end
for i = 1, n do redis.call('DEL', KEYS[4 + i]) end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', '${EVENT_FIELD}', ARGV[2])
return 'deleted'
`);

export type DeleteWindowResult =
  /** `occurrences`: those deleted, with their starts (ms). */
  | { result: 'deleted'; occurrences: { id: string; startsMs: number }[] }
  | { result: 'none' | 'changed' }
  | { result: 'running'; occurrence: string };

/** Delete a window's records with its event, unless an occurrence is running (see above). */
export async function deleteWindowRecords(
  redis: Redis,
  keys: Keys,
  windowId: string,
  event: string,
  eventsMaxLen: number,
): Promise<DeleteWindowResult> {
  const scored = await redis.zrange(keys.windowOccurrences(windowId), 0, -1, 'WITHSCORES');
  const found: { id: string; startsMs: number }[] = [];
  for (let i = 0; i + 1 < scored.length; i += 2) {
    found.push({ id: scored[i] ?? '', startsMs: Number(scored[i + 1]) });
  }
  const occurrences = found.map((o) => o.id);
  const r = (await deleteScript(
    redis,
    [
      keys.window(windowId),
      keys.windowIndex,
      keys.windowOccurrences(windowId),
      keys.events,
      ...occurrences.map((o) => keys.windowOccurrence(windowId, o)),
    ],
    [windowId, event, eventsMaxLen, ...occurrences],
  )) as string;
  if (r.startsWith('running:')) return { result: 'running', occurrence: r.slice(8) };
  if (r === 'deleted') return { result: 'deleted', occurrences: found };
  return { result: r as 'none' | 'changed' };
}
