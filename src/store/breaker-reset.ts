/**
 * Reset an open (or half-open) breaker, in one atomic step: the breaker closes with a fresh window (the counts
 * that tripped it are dropped), its hold is released, and a `breaker.reset` event says whether
 * the account may come back on: only when no other hold keeps it off and it was on before the
 * first hold (holds.ts). Asking for the activation (the returned key) is the caller's job.
 */
import type { Redis } from 'ioredis';
import type { BreakerResetEvent } from '../model.js';
import { BK } from './breaker-state.js';
import { BREAKER_HOLD, tripKey } from './breaker-trip.js';
import { EVENT_FIELD } from './event-codec.js';
import { releaseHoldLua, releaseResult, type ReleaseResult } from './holds.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

const TRIP = '__TRIP__';
const KEY = '__KEY__';
const LEFT = '__LEFT__';

// KEYS: breaker, holds, holds index, events, breaker due. ARGV: account, now ms, bucket key prefix, window
// minutes, trip key prefix, event JSON (with placeholders), events max length.
const resetScript = defineScript(`
local id, now = ARGV[1], tonumber(ARGV[2])
local state = redis.call('HGET', KEYS[1], '${BK.state}')
if state ~= 'open' and state ~= 'half_open' then return {'not_open'} end
local tripId = redis.call('HGET', KEYS[1], '${BK.tripId}')
redis.call('HSET', KEYS[1], '${BK.state}', 'closed', '${BK.resetAt}', ARGV[2])
redis.call('HDEL', KEYS[1], '${BK.cooldownS}', '${BK.openUntil}', '${BK.halfOpenAt}')
redis.call('ZREM', KEYS[5], id)
local minute = math.floor(now / 60000)
for m = minute - tonumber(ARGV[4]) + 1, minute do redis.call('DEL', ARGV[3] .. m) end
${releaseHoldLua('KEYS[2]', 'KEYS[3]', 'id', `'${BREAKER_HOLD}'`)}
local key = 'null'
local activate = ''
if before == 'active' then
  activate = ARGV[5] .. tripId .. ':reset'
  redis.call('HSET', KEYS[1], '${BK.pendingActivation}', activate)
  key = '"' .. activate .. '"'
end
local leftJson = '[]'
if #left > 0 then leftJson = cjson.encode(left) end
local event = string.gsub(ARGV[6], '${TRIP}', tripId)
event = string.gsub(event, '"${KEY}"', key)
event = string.gsub(event, '"${LEFT}"', leftJson)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', '${EVENT_FIELD}', event)
return {'reset', tripId, activate, released, before or '', left}
`);

export type ResetResult =
  | { result: 'not_open' }
  | {
      result: 'reset';
      tripId: string;
      /** The activate intent's key, for the caller to enqueue; null when it stays off. */
      activateKey: string | null;
      hold: ReleaseResult;
    };

export async function resetBreaker(
  redis: Redis,
  keys: Keys,
  providerId: string,
  settings: { windowS: number; eventsMaxLen: number },
  now = new Date(),
): Promise<ResetResult> {
  const event: BreakerResetEvent = {
    type: 'breaker.reset',
    provider_id: providerId,
    trip_id: TRIP,
    idempotency_key: KEY,
    still_held_by: LEFT as unknown as string[],
    at: now.toISOString(),
  };
  const reply = (await resetScript(
    redis,
    [
      keys.breaker(providerId),
      keys.holds(providerId),
      keys.holdsIndex,
      keys.events,
      keys.breakerDue,
    ],
    [
      providerId,
      now.getTime(),
      keys.breakerBuckets(providerId),
      Math.max(1, Math.ceil(settings.windowS / 60)),
      tripKey(providerId, ''),
      JSON.stringify(event),
      settings.eventsMaxLen,
    ],
  )) as [string, string, string, number, string, string[]];
  if (reply[0] !== 'reset') return { result: 'not_open' };
  const [, tripId, activate, released, before, left] = reply;
  return {
    result: 'reset',
    tripId,
    activateKey: activate === '' ? null : activate,
    hold: releaseResult([released, before, left]),
  };
}
