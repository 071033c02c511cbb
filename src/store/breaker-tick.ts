/**
 * The breaker's timed steps, one account at a time, each atomic: an open breaker past its
 * cooldown goes half-open (fresh window, its hold released, a `breaker.half_open` event saying
 * whether the account may come back on, as a reset would); a half-open breaker watched for
 * the whole watch period without a trip closes (`breaker.closed`; the next trip starts from
 * the base cooldown again). Several processes ticking at once do each step once.
 */
import { fingerprint, type BreakerClosedEvent, type BreakerHalfOpenEvent } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import {
  RELEASE_PLACEHOLDERS,
  releasedTrip,
  releaseStepKeys,
  releaseTripLua,
  type ReleaseReply,
} from './breaker-reset.js';
import { BK } from './breaker-state.js';
import { tripKey } from './breaker-trip.js';
import { EVENT_FIELD } from './event-codec.js';
import type { BeforeState, ReleaseResult } from './holds.js';
import type { Keys } from './keys.js';
import { KEYS_CHANGED, knownPrefixes, knownStateLua, untilKeysHold } from './known-state.js';
import { defineScript } from './script.js';

const { trip: TRIP, key: KEY, left: LEFT, base: BASE } = RELEASE_PLACEHOLDERS;
const COOLDOWN = '__COOLDOWN__';

// KEYS: breaker, holds, holds index, events, breaker due, the window's bucket keys, then the
// account's known keys with the activation's binding (known-state.ts). ARGV: account, now ms,
// bucket key prefix, window minutes, trip key prefix, half-open event JSON, closed event JSON
// (with placeholders), events max length, watch ms, known-state prefixes, the activation's
// fingerprint, the trip id the keys were read for (another one: KEYS_CHANGED, before any
// write).
const tickScript = defineScript(`
${knownStateLua}
local KP = cjson.decode(ARGV[10])
local id, now = ARGV[1], tonumber(ARGV[2])
local h = redis.call('HMGET', KEYS[1], '${BK.state}', '${BK.openUntil}', '${BK.halfOpenAt}', '${BK.tripId}', '${BK.cooldownS}')
local tripId = h[4]
if (tripId or '') ~= ARGV[12] or not sdxKeysHold(KP, {id}) then return '${KEYS_CHANGED}' end
if h[1] == 'open' and h[2] and tonumber(h[2]) <= now then
  redis.call('HSET', KEYS[1], '${BK.state}', 'half_open', '${BK.halfOpenAt}', ARGV[2])
  redis.call('HDEL', KEYS[1], '${BK.openUntil}')
  redis.call('ZADD', KEYS[5], now + tonumber(ARGV[9]), id)
  ${releaseTripLua({
    BREAKER: 'KEYS[1]',
    HOLDS: 'KEYS[2]',
    HOLDS_INDEX: 'KEYS[3]',
    BUCKETS: 'ARGV[3]',
    WINDOW_MIN: 'ARGV[4]',
    KEY_PREFIX: 'ARGV[5]',
    SUFFIX: ':half-open',
    TEMPLATE: 'ARGV[6]',
    FP: 'ARGV[11]',
  })}
  event = string.gsub(event, '"${COOLDOWN}"', h[5] or '0')
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[8], '*', '${EVENT_FIELD}', event)
  return {'half_open', tripId, activate, released, before or '', left}
end
if h[1] == 'half_open' and tonumber(h[3]) + tonumber(ARGV[9]) <= now then
  redis.call('HSET', KEYS[1], '${BK.state}', 'closed')
  redis.call('HDEL', KEYS[1], '${BK.halfOpenAt}', '${BK.cooldownS}', '${BK.openUntil}')
  redis.call('ZREM', KEYS[5], id)
  local event = string.gsub(ARGV[7], '${TRIP}', tripId)
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[8], '*', '${EVENT_FIELD}', event)
  return {'closed', tripId}
end
-- Nothing due (yet): keep it scheduled only while a step remains.
if h[1] == 'open' and h[2] then
  redis.call('ZADD', KEYS[5], tonumber(h[2]), id)
elseif h[1] == 'half_open' then
  redis.call('ZADD', KEYS[5], tonumber(h[3]) + tonumber(ARGV[9]), id)
else
  redis.call('ZREM', KEYS[5], id)
end
return {'none'}
`);

export type TickResult =
  | { result: 'none' }
  | { result: 'closed'; tripId: string }
  | {
      result: 'half_open';
      tripId: string;
      /** The activate intent's key, for the caller to enqueue; null when it stays off. */
      activateKey: string | null;
      hold: ReleaseResult;
    };

export async function tickBreaker(
  redis: Redis,
  keys: Keys,
  accountId: string,
  settings: { windowS: number; watchS: number; eventsMaxLen: number },
  now = new Date(),
): Promise<TickResult> {
  const halfOpen: BreakerHalfOpenEvent = {
    type: 'breaker.half_open',
    account_id: accountId,
    trip_id: TRIP,
    idempotency_key: KEY,
    still_held_by: LEFT as unknown as string[],
    cooldown_s: COOLDOWN as unknown as number,
    base: BASE as BeforeState,
    at: now.toISOString(),
  };
  const closed: BreakerClosedEvent = {
    type: 'breaker.closed',
    account_id: accountId,
    trip_id: TRIP,
    idempotency_key: null,
    at: now.toISOString(),
  };
  const windowMin = Math.max(1, Math.ceil(settings.windowS / 60));
  const reply = (await untilKeysHold(async () => {
    const { tripId, keys: stepKeys } = await releaseStepKeys(
      redis,
      keys,
      accountId,
      now.getTime(),
      windowMin,
      ':half-open',
    );
    return tickScript(redis, stepKeys, [
      accountId,
      now.getTime(),
      keys.breakerBuckets(accountId),
      windowMin,
      tripKey(accountId, ''),
      JSON.stringify(halfOpen),
      JSON.stringify(closed),
      settings.eventsMaxLen,
      settings.watchS * 1000,
      knownPrefixes(keys),
      fingerprint({ action: 'activate', accountId, source: 'breaker' }),
      tripId,
    ]);
  })) as ReleaseReply;
  switch (reply[0]) {
    case 'closed':
      return { result: 'closed', tripId: reply[1] };
    case 'half_open':
      return { result: 'half_open', ...releasedTrip(reply) };
    default:
      return { result: 'none' };
  }
}
