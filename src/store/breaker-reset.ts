/**
 * Reset an open (or half-open) breaker, in one atomic step: the breaker closes with a fresh window (the counts
 * that tripped it are dropped), its hold is released, and a `breaker.reset` event says whether
 * the account may come back on: only when no other hold keeps it off and it was on before the
 * first hold (holds.ts). Asking for the activation (the returned key) is the caller's job.
 */
import { fingerprint, type BreakerResetEvent } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { BK, windowBucketKeys } from './breaker-state.js';
import { BREAKER_HOLD, tripKey } from './breaker-trip.js';
import { ACTOR_MARK, EVENT_FIELD, withActor } from './event-codec.js';
import { claimActivationLua, releaseHoldLua } from './hold-lua.js';
import { releaseResult, type BeforeState, type ReleaseResult } from './holds.js';
import type { Keys } from './keys.js';
import {
  KEYS_CHANGED,
  knownKeys,
  knownPrefixes,
  knownStateLua,
  untilKeysHold,
} from './known-state.js';
import { defineScript } from './script.js';

/** Placeholders of the event templates a release fills in Lua. */
export const RELEASE_PLACEHOLDERS = {
  trip: '__TRIP__',
  key: '__KEY__',
  left: '__LEFT__',
  base: '__BASE__',
};
const { trip: TRIP, key: KEY, left: LEFT, base: BASE } = RELEASE_PLACEHOLDERS;

/**
 * Lua shared by a reset and the half-open step (breaker-tick.ts): the window starts afresh
 * (the buckets that tripped it are dropped), the breaker's hold is released, and the account is
 * asked back on only if that was its last hold and its base is `active` (holds.ts): the
 * activation (`KEY_PREFIX .. tripId .. SUFFIX`) is bound in this same step, and kept pending in
 * the breaker hash until its job is added. Fills the event template's placeholders (trip, key,
 * still held by, base). Expects the locals `id`, `now`, `tripId`, `KP` (known-state.ts) and
 * the Lua functions of {@link knownStateLua}; sets `activate` ('' for none), `released`,
 * `before`, `left` and `event`.
 */
export function releaseTripLua(a: {
  BREAKER: string;
  HOLDS: string;
  HOLDS_INDEX: string;
  BUCKETS: string;
  WINDOW_MIN: string;
  KEY_PREFIX: string;
  SUFFIX: string;
  TEMPLATE: string;
  /** The activation's fingerprint (model.ts). */
  FP: string;
}): string {
  return `
local minute = math.floor(now / 60000)
for m = minute - tonumber(${a.WINDOW_MIN}) + 1, minute do redis.call('DEL', ${a.BUCKETS} .. m) end
${releaseHoldLua(a.HOLDS, a.HOLDS_INDEX, 'id', `'${BREAKER_HOLD}'`)}
local key, activate = 'null', ''
local wanted = ${a.KEY_PREFIX} .. tripId .. '${a.SUFFIX}'
${claimActivationLua('id', 'wanted', a.FP, "'breaker'", "'base'", 'tostring(now)')}
if claimed and claimed ~= 'conflict' then
  activate = wanted
  redis.call('HSET', ${a.BREAKER}, '${BK.pendingActivation}', activate)
  key = '"' .. activate .. '"'
end
local leftJson = '[]'
if #left > 0 then leftJson = cjson.encode(left) end
local event = string.gsub(${a.TEMPLATE}, '${TRIP}', tripId)
event = string.gsub(event, '"${KEY}"', key)
event = string.gsub(event, '"${LEFT}"', leftJson)
event = string.gsub(event, '"${BASE}"', before and ('"' .. before .. '"') or 'null')
`;
}

/** What a release's script answers after its tag: `{tripId, activate, released, before, left}`. */
export type ReleaseReply = [string, string, string, number, string, string[]];

/** Read a release's answer (see {@link releaseTripLua}). */
export function releasedTrip([, tripId, activate, released, before, left]: ReleaseReply): {
  tripId: string;
  activateKey: string | null;
  hold: ReleaseResult;
} {
  return {
    tripId,
    activateKey: activate === '' ? null : activate,
    hold: releaseResult([released, before, left]),
  };
}

// KEYS: breaker, holds, holds index, events, breaker due, the window's bucket keys, then the
// account's known keys with the activation's binding (known-state.ts). ARGV: account, now ms,
// bucket key prefix, window minutes, trip key prefix, event JSON (with placeholders), events
// max length, known-state prefixes, the activation's fingerprint, the trip id the keys were
// read for (another one: the script answers KEYS_CHANGED before any write).
const resetScript = defineScript(`
${knownStateLua}
local KP = cjson.decode(ARGV[8])
local id, now = ARGV[1], tonumber(ARGV[2])
local state = redis.call('HGET', KEYS[1], '${BK.state}')
if state ~= 'open' and state ~= 'half_open' then return {'not_open'} end
local tripId = redis.call('HGET', KEYS[1], '${BK.tripId}')
if (tripId or '') ~= ARGV[10] or not sdxKeysHold(KP, {id}) then return '${KEYS_CHANGED}' end
redis.call('HSET', KEYS[1], '${BK.state}', 'closed', '${BK.resetAt}', ARGV[2])
redis.call('HDEL', KEYS[1], '${BK.cooldownS}', '${BK.openUntil}', '${BK.halfOpenAt}')
redis.call('ZREM', KEYS[5], id)
${releaseTripLua({
  BREAKER: 'KEYS[1]',
  HOLDS: 'KEYS[2]',
  HOLDS_INDEX: 'KEYS[3]',
  BUCKETS: 'ARGV[3]',
  WINDOW_MIN: 'ARGV[4]',
  KEY_PREFIX: 'ARGV[5]',
  SUFFIX: ':reset',
  TEMPLATE: 'ARGV[6]',
  FP: 'ARGV[9]',
})}
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', '${EVENT_FIELD}', event)
return {'reset', tripId, activate, released, before or '', left}
`);

/**
 * The KEYS of a step that releases the breaker's hold (a reset, the half-open step): the
 * breaker, holds, holds index, events, breaker due, the window's bucket keys, then the
 * account's known keys with the binding of the activation the step may claim
 * (`<trip key><suffix>`). Read first, with the trip id they were read for: the script answers
 * KEYS_CHANGED when the breaker has another trip by then.
 */
export async function releaseStepKeys(
  redis: Redis,
  keys: Keys,
  accountId: string,
  nowMs: number,
  windowMin: number,
  suffix: ':reset' | ':half-open',
): Promise<{ tripId: string; keys: string[] }> {
  const tripId = (await redis.hget(keys.breaker(accountId), BK.tripId)) ?? '';
  const claim = tripId === '' ? [] : [`${tripKey(accountId, tripId)}${suffix}`];
  return {
    tripId,
    keys: [
      keys.breaker(accountId),
      keys.holds(accountId),
      keys.holdsIndex,
      keys.events,
      keys.breakerDue,
      ...windowBucketKeys(keys, accountId, nowMs, windowMin),
      ...(await knownKeys(redis, keys, [accountId], claim)),
    ],
  };
}

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
  accountId: string,
  settings: { windowS: number; eventsMaxLen: number },
  now = new Date(),
  actor: string | null = null,
): Promise<ResetResult> {
  const event: BreakerResetEvent = {
    type: 'breaker.reset',
    account_id: accountId,
    trip_id: TRIP,
    idempotency_key: KEY,
    still_held_by: LEFT as unknown as string[],
    base: BASE as BeforeState,
    actor: ACTOR_MARK,
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
      ':reset',
    );
    return resetScript(redis, stepKeys, [
      accountId,
      now.getTime(),
      keys.breakerBuckets(accountId),
      windowMin,
      tripKey(accountId, ''),
      withActor(JSON.stringify(event), actor),
      settings.eventsMaxLen,
      knownPrefixes(keys),
      fingerprint({ action: 'activate', accountId, source: 'breaker' }),
      tripId,
    ]);
  })) as ReleaseReply;
  if (reply[0] !== 'reset') return { result: 'not_open' };
  return { result: 'reset', ...releasedTrip(reply) };
}
