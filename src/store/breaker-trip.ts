/**
 * Count one signal and trip the breaker when a rule crosses, in one atomic step: however many
 * server processes see the same spike, the account trips once. The same script trips on an
 * operator's request (`force`).
 *
 * A trip: the breaker hash goes `open` with the trip's id, reason and numbers; the account
 * gets the hold `breaker` (holds.ts); a `breaker.tripped` event goes on the stream; the
 * account's deactivate intent (key `breaker:<account>:<trip id>`) is the caller's to enqueue,
 * then to mark with markTripEnqueued (a trip left unmarked by a crash is found again by
 * tripsNotEnqueued).
 */
import {
  BREAKER_ACTOR,
  type BreakerMode,
  type BreakerNumbers,
  type BreakerTrippedEvent,
  type BreakerWarnedEvent,
  type BreakerWouldTripEvent,
  type TripReason,
} from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { BK, sumWindowLua, windowBucketKeys, type CountKind } from './breaker-state.js';
import { ACTOR_MARK, EVENT_FIELD, withActor } from './event-codec.js';
import { takeHoldLua } from './hold-lua.js';
import { encodeHold } from './hold-record.js';
import type { Keys } from './keys.js';
import { KEYS_CHANGED, knownPrefixes, knownStateLua, runWithKnownKeys } from './known-state.js';
import { defineScript } from './script.js';

/** The hold a trip takes, and a reset releases. */
export const BREAKER_HOLD = 'breaker';

export interface BreakerRules {
  /**
   * What a crossing of the trip level does, as the settings say (BREAKER_MODE, or the account's
   * own `mode`); a run-time `breaker mode` overrides it (breaker-mode.ts).
   */
  mode: BreakerMode;
  /** The mode is the account's own (BREAKER_ACCOUNT_RULES), not the global default. */
  ownMode: boolean;
  /** Seconds of signals the rules look at (whole minutes). */
  windowS: number;
  /** Trip when hard bounces / (delivered + bounced) reaches this... */
  bounceRate: number;
  /** ...warn when it reaches this (<= bounceRate; equal: no separate warning)... */
  bounceWarnRate: number;
  /** ...with at least this many delivered + bounced. */
  bounceMinVolume: number;
  /** Trip when complaints / delivered reaches this... */
  complaintRate: number;
  /** ...warn when it reaches this (<= complaintRate)... */
  complaintWarnRate: number;
  /** ...with at least this many delivered. */
  complaintMinVolume: number;
}

const TRIP = '__TRIP__';
const REASON = '__REASON__';
const NUMBERS = '__NUMBERS__';
const KEY = '__KEY__';
const MODE = '__MODE__';

// Lua's %g with 6 digits: rates as people read them (0.05, 0.00133333), valid JSON numbers.
const numbersJsonLua = `
local function rate(a, b)
  if b > 0 then return string.format('%.6g', a / b) end
  return 'null'
end
local volume = delivered + hard + soft
local numbers = '{"window_s":' .. windowS .. ',"delivered":' .. delivered ..
  ',"bounced":' .. (hard + soft) .. ',"hard_bounced":' .. hard ..
  ',"complained":' .. complained .. ',"rejected":' .. rejected ..
  ',"bounce_rate":' .. rate(hard, volume) .. ',"complaint_rate":' .. rate(complained, delivered) .. '}'
`;

/** How long an account stays in the warnings index (the longest window). */
const WARNINGS_KEEP_MS = 86_400_000;

// KEYS: signal seen, breaker, breaker index, holds, holds index, events, breaker due, breaker
// modes, breaker warnings, the bucket keys (windowBucketKeys), then the account's known keys
// (known-state.ts).
// ARGV: account, now ms, count kind ('' counts nothing), signal id ('' skips the dedupe),
// dedupe ttl s, bucket key prefix, window minutes, bounce rate, bounce min volume, complaint
// rate, complaint min volume, force ('1' trips whatever the numbers and the mode), trip key
// prefix, hold JSON, event JSON (with placeholders), events max length, bucket ttl s, when the
// signal happened (ms; its minute gets the count, never one after now's), cooldown s (0: off),
// longest cooldown s, the known-state key prefixes (known-state.ts: the hold's base is what the
// project knows the account is, never assumed on), bounce warn rate, complaint warn rate, the
// account's own mode from the settings ('' when it has none), the settings' default mode, the
// `breaker.warned` event JSON and the `breaker.would_trip` one (with placeholders).
//
// The mode, most specific first: the run-time one of the account (breaker modes hash), its own
// in the settings, the run-time default (field `*`), the settings' default. Only a crossing of
// the trip level in mode `act` (or a forced trip) trips; in `warn` and `watch` it is said as
// `breaker.would_trip`; a crossing of a warning level only is `breaker.warned`. Each of those two
// at most once per window per account (their last time in the breaker hash).
//
// The twin of this step in TypeScript is the backtest's evaluator (breaker backtest); a test
// feeds one sequence to both.
const tripScript = defineScript(`
${knownStateLua}
local id, now, kind, signalId = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
-- Read before any write: a script that fails (a record of the wrong type) must not have marked
-- the signal seen, or its next delivery would be taken for a duplicate and never counted.
local before = redis.call('HGET', KEYS[2], '${BK.state}')
if not sdxKeysHold(cjson.decode(ARGV[21]), {id}) then return '${KEYS_CHANGED}' end
if signalId ~= '' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[5]) then return {'duplicate'} end
end
local buckets, windowMin = ARGV[6], tonumber(ARGV[7])
local windowS = windowMin * 60
local minute = math.floor(now / 60000)
if kind ~= '' then
  local bucket = buckets .. math.min(minute, math.floor(tonumber(ARGV[18]) / 60000))
  redis.call('HINCRBY', bucket, kind, 1)
  redis.call('EXPIRE', bucket, ARGV[17])
  redis.call('ZADD', KEYS[3], now, id)
end
if before == 'open' then return {'open'} end
${sumWindowLua('buckets', 'minute', 'windowMin')}
${numbersJsonLua}
local function crossed(bounceRate, complaintRate)
  if volume > 0 and volume >= tonumber(ARGV[9]) and hard / volume >= tonumber(bounceRate) then
    return 'bounce_rate'
  end
  if delivered > 0 and delivered >= tonumber(ARGV[11]) and complained / delivered >= tonumber(complaintRate) then
    return 'complaint_rate'
  end
  return false
end
local reason, level = false, 'trip'
if ARGV[12] == '1' then
  reason = 'manual'
else
  reason = crossed(ARGV[8], ARGV[10])
  if not reason then
    reason, level = crossed(ARGV[22], ARGV[23]), 'warn'
  end
end
if not reason then return {'counted'} end
local mode = 'act'
if ARGV[12] ~= '1' then
  mode = redis.call('HGET', KEYS[8], id)
  if not mode then
    if ARGV[24] ~= '' then mode = ARGV[24] else mode = redis.call('HGET', KEYS[8], '*') or ARGV[25] end
  end
end
if level == 'warn' or mode ~= 'act' then
  local said, template = 'warned', ARGV[26]
  if level == 'trip' then said, template = 'would_trip', ARGV[27] end
  local last = tonumber(redis.call('HGET', KEYS[2], said .. '_at'))
  if last and now - last < windowS * 1000 then return {'counted'} end
  redis.call('HSET', KEYS[2], said .. '_at', now, said .. '_reason', reason, said .. '_numbers', numbers,
    said .. '_mode', mode)
  redis.call('ZADD', KEYS[3], now, id)
  redis.call('ZADD', KEYS[9], now, id)
  redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', now - ${WARNINGS_KEEP_MS})
  local event = string.gsub(template, '${REASON}', reason)
  event = string.gsub(event, '"${NUMBERS}"', numbers)
  event = string.gsub(event, '${MODE}', mode)
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[16], '*', '${EVENT_FIELD}', event)
  return {said, reason, numbers, mode}
end
local trips = redis.call('HINCRBY', KEYS[2], '${BK.trips}', 1)
local cooldown = tonumber(ARGV[19])
if cooldown > 0 then
  if before == 'half_open' then
    local last = tonumber(redis.call('HGET', KEYS[2], '${BK.cooldownS}')) or cooldown
    cooldown = math.min(last * 2, tonumber(ARGV[20]))
  end
  redis.call('HSET', KEYS[2], '${BK.cooldownS}', cooldown, '${BK.openUntil}', now + cooldown * 1000)
  redis.call('ZADD', KEYS[7], now + cooldown * 1000, id)
else
  redis.call('HDEL', KEYS[2], '${BK.cooldownS}', '${BK.openUntil}')
  redis.call('ZREM', KEYS[7], id)
end
redis.call('HDEL', KEYS[2], '${BK.halfOpenAt}')
local tripId = ARGV[2] .. '-' .. trips
local key = ARGV[13] .. tripId
redis.call('HSET', KEYS[2], '${BK.state}', 'open', '${BK.tripId}', tripId, '${BK.trippedAt}', ARGV[2],
  '${BK.tripReason}', reason, '${BK.tripNumbers}', numbers, '${BK.tripKey}', key, '${BK.enqueued}', '0')
redis.call('ZADD', KEYS[3], now, id)
local hold = string.gsub(ARGV[14], '${TRIP}', tripId)
local KP = cjson.decode(ARGV[21])
${takeHoldLua('KEYS[4]', 'KEYS[5]', 'id', `'${BREAKER_HOLD}'`, 'hold', 'ARGV[2]')}
local event = string.gsub(ARGV[15], '${TRIP}', tripId)
event = string.gsub(event, '${REASON}', reason)
event = string.gsub(event, '"${NUMBERS}"', numbers)
event = string.gsub(event, '${KEY}', key)
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[16], '*', '${EVENT_FIELD}', event)
return {'tripped', tripId, reason, numbers, key}
`);

export type TripResult =
  /** This signal id was counted before: nothing changed. */
  | { result: 'duplicate' }
  /** Counted; no rule crossed. */
  | { result: 'counted' }
  /** Counted; the breaker was open already. */
  | { result: 'open' }
  /**
   * Counted; a warning level crossed (`breaker.warned`), or the trip level in mode `warn` or
   * `watch` (`breaker.would_trip`): said, at most once per window.
   */
  | {
      result: 'warned' | 'would_trip';
      reason: Exclude<TripReason, 'manual'>;
      numbers: BreakerNumbers;
      mode: BreakerMode;
    }
  | {
      result: 'tripped';
      tripId: string;
      reason: TripReason;
      numbers: BreakerNumbers;
      /** The deactivate intent's key, for the caller to enqueue. */
      idempotencyKey: string;
    };

export interface TripInput {
  accountId: string;
  /** What to count; omitted for a manual trip. */
  kind?: CountKind;
  /** The signal's id (dedupes a retried delivery); omitted counts without dedupe. */
  signalId?: string;
  /** Trip whatever the numbers (an operator's `breaker trip`). */
  force?: boolean;
  /** When the signal happened (its minute gets the count). @defaultValue now */
  occurredAt?: Date;
  /** Why, as the hold says it. */
  reason?: string;
  /** Who trips it: `breaker` for a rule crossed, who asked for a manual one. @defaultValue breaker */
  actor?: string;
}

export interface TripSettings {
  rules: BreakerRules;
  /** Cooldown before going half-open by itself; 0 or omitted: open until reset. */
  cooldownS?: number;
  /** A trip while half-open doubles the cooldown, up to this. */
  cooldownMaxS?: number;
  dedupeTtlS: number;
  eventsMaxLen: number;
}

/** The deactivate intent key of a trip: `breaker:<account>:<trip id>`. */
export function tripKey(accountId: string, tripId: string): string {
  return `breaker:${accountId}:${tripId}`;
}

export async function countAndTrip(
  redis: Redis,
  keys: Keys,
  input: TripInput,
  settings: TripSettings,
  now = new Date(),
): Promise<TripResult> {
  const { rules } = settings;
  const windowMin = Math.max(1, Math.ceil(rules.windowS / 60));
  const event: BreakerTrippedEvent = {
    type: 'breaker.tripped',
    account_id: input.accountId,
    trip_id: TRIP,
    reason: REASON as TripReason,
    numbers: NUMBERS as unknown as BreakerNumbers,
    idempotency_key: KEY,
    actor: ACTOR_MARK,
    at: now.toISOString(),
  };
  const said = (type: 'breaker.warned' | 'breaker.would_trip') =>
    JSON.stringify({
      type,
      account_id: input.accountId,
      reason: REASON,
      numbers: NUMBERS,
      mode: MODE,
      at: now.toISOString(),
    } satisfies Omit<BreakerWarnedEvent | BreakerWouldTripEvent, 'reason' | 'numbers' | 'mode'> &
      Record<string, unknown>);
  const actor = input.actor ?? BREAKER_ACTOR;
  const hold = encodeHold(
    {
      id: BREAKER_HOLD,
      source: 'breaker',
      ref: TRIP,
      reason: input.reason ?? 'breaker tripped',
      actor: ACTOR_MARK,
    },
    now,
  );
  const occurredMs = (input.occurredAt ?? now).getTime();
  const reply = (await runWithKnownKeys(
    tripScript,
    redis,
    keys,
    [
      input.signalId ? keys.signalSeen(input.signalId) : keys.signalSeen(''),
      keys.breaker(input.accountId),
      keys.breakerIndex,
      keys.holds(input.accountId),
      keys.holdsIndex,
      keys.events,
      keys.breakerDue,
      keys.breakerModes,
      keys.breakerWarnings,
      ...windowBucketKeys(keys, input.accountId, now.getTime(), windowMin, occurredMs),
    ],
    [input.accountId],
    [],
    [
      input.accountId,
      now.getTime(),
      input.kind ?? '',
      input.signalId ?? '',
      settings.dedupeTtlS,
      keys.breakerBuckets(input.accountId),
      windowMin,
      rules.bounceRate,
      rules.bounceMinVolume,
      rules.complaintRate,
      rules.complaintMinVolume,
      input.force ? '1' : '0',
      tripKey(input.accountId, ''),
      withActor(hold, actor),
      withActor(JSON.stringify(event), actor),
      settings.eventsMaxLen,
      windowMin * 60 + 120,
      occurredMs,
      settings.cooldownS ?? 0,
      settings.cooldownMaxS ?? 86_400,
      knownPrefixes(keys),
      rules.bounceWarnRate,
      rules.complaintWarnRate,
      rules.ownMode ? rules.mode : '',
      rules.ownMode ? '' : rules.mode,
      said('breaker.warned'),
      said('breaker.would_trip'),
    ],
  )) as [string, ...string[]];
  switch (reply[0]) {
    case 'duplicate':
    case 'counted':
    case 'open':
      return { result: reply[0] };
    case 'warned':
    case 'would_trip':
      return {
        result: reply[0],
        reason: reply[1] as Exclude<TripReason, 'manual'>,
        numbers: JSON.parse(String(reply[2])) as BreakerNumbers,
        mode: reply[3] as BreakerMode,
      };
    case 'tripped':
      return {
        result: 'tripped',
        tripId: String(reply[1]),
        reason: reply[2] as TripReason,
        numbers: JSON.parse(String(reply[3])) as BreakerNumbers,
        idempotencyKey: String(reply[4]),
      };
    default:
      throw new Error(`breaker trip script: unexpected reply ${reply[0]}`);
  }
}
