/**
 * The breaker's record of an account: the hash `<prefix>:breaker:<account>` (state and last
 * trip) and its signal counts, one hash per minute (`breakerBucket`, expiring after the
 * window). This file owns the field names, the counting Lua shared by the trip and the reset
 * scripts, and the reading; breaker-trip.ts and breaker-reset.ts write.
 */
import { BREAKER_MODES, type BreakerMode, type BreakerNumbers, type TripReason } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

export const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

/** Field names of the breaker hash. */
export const BK = {
  state: 'state',
  tripId: 'trip_id',
  trippedAt: 'tripped_at',
  tripReason: 'trip_reason',
  /** The numbers that tripped it, as JSON ({@link BreakerNumbers}). */
  tripNumbers: 'trip_numbers',
  /** The deactivate intent's key of the last trip. */
  tripKey: 'trip_key',
  /** '1' once the trip's intent is enqueued ('0' between the trip and the enqueue). */
  enqueued: 'enqueued',
  trips: 'trips',
  resetAt: 'reset_at',
  /**
   * The activation a reset or a half-open step asked for, until it is enqueued (a crash in
   * between leaves it here for recovery; the key makes a second enqueue a no-op).
   */
  pendingActivation: 'pending_activation',
  /** This trip's cooldown (s), when cooldowns are on; doubled by a trip while half-open. */
  cooldownS: 'cooldown_s',
  /** When the cooldown runs out and the breaker goes half-open (ms). */
  openUntil: 'open_until',
  /** When it went half-open (ms). */
  halfOpenAt: 'half_open_at',
  /**
   * The last `breaker.warned` (a warning level crossed) and `breaker.would_trip` (the trip level
   * crossed in `warn` or `watch` mode): when (ms; each is said at most once per window), why,
   * the numbers (JSON) and the mode then. Field names: `<kind>_at`, `<kind>_reason`...
   */
  warnedAt: 'warned_at',
  warnedReason: 'warned_reason',
  warnedNumbers: 'warned_numbers',
  warnedMode: 'warned_mode',
  wouldTripAt: 'would_trip_at',
  wouldTripReason: 'would_trip_reason',
  wouldTripNumbers: 'would_trip_numbers',
  wouldTripMode: 'would_trip_mode',
} as const;

/** Counter names of a minute bucket: what a signal counts as. */
export const COUNTS = [
  'delivered',
  'hard_bounced',
  'soft_bounced',
  'complained',
  'rejected',
] as const;
export type CountKind = (typeof COUNTS)[number];

/**
 * Lua: sum account `BUCKETS` (the bucket key prefix) over the `WINDOW_MIN` minutes ending at
 * minute `MINUTE`; sets the locals `delivered`, `hard`, `soft`, `complained`, `rejected`.
 */
export function sumWindowLua(BUCKETS: string, MINUTE: string, WINDOW_MIN: string): string {
  return `
local delivered, hard, soft, complained, rejected = 0, 0, 0, 0, 0
for m = ${MINUTE} - ${WINDOW_MIN} + 1, ${MINUTE} do
  local c = redis.call('HMGET', ${BUCKETS} .. m, ${COUNTS.map((c) => `'${c}'`).join(', ')})
  delivered = delivered + (tonumber(c[1]) or 0)
  hard = hard + (tonumber(c[2]) or 0)
  soft = soft + (tonumber(c[3]) or 0)
  complained = complained + (tonumber(c[4]) or 0)
  rejected = rejected + (tonumber(c[5]) or 0)
end
`;
}

/**
 * The bucket keys a script reads or writes for an account at `nowMs` (see
 * {@link sumWindowLua}): the window's minutes, and `countMs`'s minute (never one after now's)
 * when a signal is counted. Declared in KEYS (script.ts).
 */
export function windowBucketKeys(
  keys: Keys,
  accountId: string,
  nowMs: number,
  windowMin: number,
  countMs?: number,
): string[] {
  const minute = Math.floor(nowMs / 60_000);
  const out = new Set<string>();
  if (countMs !== undefined) {
    out.add(keys.breakerBucket(accountId, Math.min(minute, Math.floor(countMs / 60_000))));
  }
  for (let m = minute - windowMin + 1; m <= minute; m++) out.add(keys.breakerBucket(accountId, m));
  return [...out];
}

/** The rates from raw counts, as the rules read them. */
export function breakerNumbers(
  windowS: number,
  c: { delivered: number; hard: number; soft: number; complained: number; rejected: number },
): BreakerNumbers {
  const bounced = c.hard + c.soft;
  const volume = c.delivered + bounced;
  return {
    window_s: windowS,
    delivered: c.delivered,
    bounced,
    hard_bounced: c.hard,
    complained: c.complained,
    rejected: c.rejected,
    bounce_rate: volume > 0 ? c.hard / volume : null,
    complaint_rate: c.delivered > 0 ? c.complained / c.delivered : null,
  };
}

export interface BreakerRecord {
  account_id: string;
  state: BreakerState;
  trips: number;
  last_trip: {
    trip_id: string;
    at: string;
    reason: TripReason;
    numbers: BreakerNumbers | null;
    idempotency_key: string;
    /** The deactivate intent is on the queue (false only between a trip and its enqueue). */
    enqueued: boolean;
  } | null;
  reset_at: string | null;
  /** The current trip's cooldown (s); null when cooldowns are off (reset by hand). */
  cooldown_s: number | null;
  /** When an open breaker goes half-open by itself. */
  open_until: string | null;
  half_open_at: string | null;
  /** The last `breaker.warned`: a warning level crossed (said at most once per window). */
  last_warning: BreakerWarning | null;
  /** The last `breaker.would_trip`: the trip level crossed in mode warn or watch. */
  last_would_trip: BreakerWarning | null;
}

/** What a `breaker.warned` or `breaker.would_trip` said. */
export interface BreakerWarning {
  at: string;
  reason: Exclude<TripReason, 'manual'>;
  numbers: BreakerNumbers | null;
  mode: BreakerMode;
}

function warningOf(
  at: string | undefined,
  reason: string | undefined,
  numbers: string | undefined,
  mode: string | undefined,
): BreakerWarning | null {
  const when = iso(at);
  if (!when) return null;
  return {
    at: when,
    reason: reason === 'complaint_rate' ? 'complaint_rate' : 'bounce_rate',
    numbers: numbers ? (JSON.parse(numbers) as BreakerNumbers) : null,
    mode: (BREAKER_MODES as readonly string[]).includes(mode ?? '') ? (mode as BreakerMode) : 'act',
  };
}

const iso = (ms: string | undefined) =>
  ms && Number.isFinite(Number(ms)) ? new Date(Number(ms)).toISOString() : null;

/** An account's breaker; a never-tripped account is `closed` with no trip. */
export async function readBreaker(
  redis: Redis,
  keys: Keys,
  accountId: string,
): Promise<BreakerRecord> {
  const h = await redis.hgetall(keys.breaker(accountId));
  const tripId = h[BK.tripId];
  const numbers = h[BK.tripNumbers];
  return {
    account_id: accountId,
    state: (BREAKER_STATES as readonly string[]).includes(h[BK.state] ?? '')
      ? (h[BK.state] as BreakerState)
      : 'closed',
    trips: Number(h[BK.trips] ?? 0) || 0,
    last_trip: tripId
      ? {
          trip_id: tripId,
          at: iso(h[BK.trippedAt]) ?? '',
          reason: (h[BK.tripReason] ?? 'manual') as TripReason,
          numbers: numbers ? (JSON.parse(numbers) as BreakerNumbers) : null,
          idempotency_key: h[BK.tripKey] ?? '',
          enqueued: h[BK.enqueued] === '1',
        }
      : null,
    reset_at: iso(h[BK.resetAt]),
    cooldown_s: h[BK.cooldownS] ? Number(h[BK.cooldownS]) : null,
    open_until: iso(h[BK.openUntil]),
    half_open_at: iso(h[BK.halfOpenAt]),
    last_warning: warningOf(
      h[BK.warnedAt],
      h[BK.warnedReason],
      h[BK.warnedNumbers],
      h[BK.warnedMode],
    ),
    last_would_trip: warningOf(
      h[BK.wouldTripAt],
      h[BK.wouldTripReason],
      h[BK.wouldTripNumbers],
      h[BK.wouldTripMode],
    ),
  };
}

/** The account's counts over the window ending now, read without counting anything. */
export async function readWindow(
  redis: Redis,
  keys: Keys,
  accountId: string,
  windowS: number,
  now = Date.now(),
): Promise<BreakerNumbers> {
  const minute = Math.floor(now / 60_000);
  const minutes = Math.max(1, Math.ceil(windowS / 60));
  const pipeline = redis.pipeline();
  for (let m = minute - minutes + 1; m <= minute; m++) {
    pipeline.hmget(keys.breakerBucket(accountId, m), ...COUNTS);
  }
  const sums = [0, 0, 0, 0, 0];
  for (const [err, values] of (await pipeline.exec()) ?? []) {
    if (err) throw err;
    (values as (string | null)[]).forEach((v, i) => {
      sums[i] = (sums[i] ?? 0) + (Number(v) || 0);
    });
  }
  const [delivered = 0, hard = 0, soft = 0, complained = 0, rejected = 0] = sums;
  return breakerNumbers(windowS, { delivered, hard, soft, complained, rejected });
}

/** Accounts warned (or would-trip) in the last day, most recent first. */
export async function listWarnedAccounts(
  redis: Redis,
  keys: Keys,
  now = Date.now(),
  limit = 1000,
): Promise<string[]> {
  return redis.zrevrangebyscore(
    keys.breakerWarnings,
    '+inf',
    now - 86_400_000,
    'LIMIT',
    0,
    Math.max(1, limit),
  );
}

/** Accounts the breaker has seen signals for or tripped, most recent first. */
export async function listBreakerAccounts(
  redis: Redis,
  keys: Keys,
  limit = 1000,
): Promise<string[]> {
  return redis.zrevrange(keys.breakerIndex, 0, Math.max(0, limit - 1));
}

// KEYS: breaker. ARGV: trip id. Only if the record is still that trip's (a reset and a new
// trip may have come since).
const markScript = defineScript(`
if redis.call('HGET', KEYS[1], '${BK.tripId}') == ARGV[1] then
  redis.call('HSET', KEYS[1], '${BK.enqueued}', '1')
end
return 1
`);

// KEYS: breaker. ARGV: activation key. Only if it is still the pending one.
const activationScript = defineScript(`
if redis.call('HGET', KEYS[1], '${BK.pendingActivation}') == ARGV[1] then
  redis.call('HDEL', KEYS[1], '${BK.pendingActivation}')
end
return 1
`);

/** The activation a reset or a half-open step asked for is on the queue. */
export async function markActivationEnqueued(
  redis: Redis,
  keys: Keys,
  accountId: string,
  activateKey: string,
): Promise<void> {
  await activationScript(redis, [keys.breaker(accountId)], [activateKey]);
}

/** Activations asked for but maybe not enqueued (a crash between the two). */
export async function activationsNotEnqueued(
  redis: Redis,
  keys: Keys,
): Promise<{ accountId: string; tripId: string; activateKey: string }[]> {
  const accounts = await redis.zrange(keys.breakerIndex, 0, -1);
  const pipeline = redis.pipeline();
  for (const id of accounts) pipeline.hmget(keys.breaker(id), BK.tripId, BK.pendingActivation);
  const replies = (await pipeline.exec()) ?? [];
  const out: { accountId: string; tripId: string; activateKey: string }[] = [];
  accounts.forEach((accountId, i) => {
    const [err, v] = replies[i] ?? [null, null];
    if (err) throw err;
    const [tripId, activateKey] = (v ?? []) as (string | null)[];
    if (tripId && activateKey) out.push({ accountId, tripId, activateKey });
  });
  return out;
}

/** The trip's intent is on the queue. */
export async function markTripEnqueued(
  redis: Redis,
  keys: Keys,
  accountId: string,
  tripId: string,
): Promise<void> {
  await markScript(redis, [keys.breaker(accountId)], [tripId]);
}

/**
 * Accounts whose breaker has a timed step due (an open one past its cooldown, a half-open one
 * past its watch): read from the schedule the trip, tick and reset scripts keep, not by
 * scanning every account.
 */
export async function breakersDue(
  redis: Redis,
  keys: Keys,
  now = Date.now(),
  limit = 1000,
): Promise<string[]> {
  return redis.zrangebyscore(keys.breakerDue, '-inf', now, 'LIMIT', 0, limit);
}

/** Accounts whose last trip's intent may not be on the queue (a crash between the two). */
export async function tripsNotEnqueued(
  redis: Redis,
  keys: Keys,
): Promise<{ accountId: string; tripId: string }[]> {
  const out: { accountId: string; tripId: string }[] = [];
  const accounts = await redis.zrange(keys.breakerIndex, 0, -1);
  const pipeline = redis.pipeline();
  for (const id of accounts) pipeline.hmget(keys.breaker(id), BK.state, BK.tripId, BK.enqueued);
  const replies = (await pipeline.exec()) ?? [];
  accounts.forEach((accountId, i) => {
    const [err, v] = replies[i] ?? [null, null];
    if (err) throw err;
    const [state, tripId, enqueued] = (v ?? []) as (string | null)[];
    if (state === 'open' && tripId && enqueued !== '1') out.push({ accountId, tripId });
  });
  return out;
}
