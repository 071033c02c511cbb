/**
 * Run-time breaker modes (`breaker mode`, `PUT /v1/breaker/mode`): the hash
 * `<prefix>:breaker-mode`, field `*` the default and an account id that account's mode. The
 * trip step (breaker-trip.ts) reads it on every crossing, so a change applies to the next
 * signal in every server process. Each change is one step with its `breaker.mode_changed`
 * event (who, before, after).
 */
import { BREAKER_MODES, type BreakerMode, type BreakerModeChangedEvent } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { BreakerRules } from './breaker-trip.js';
import { ACTOR_MARK, EVENT_FIELD, withActor } from './event-codec.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

/** The field of the default mode. */
export const DEFAULT_MODE_FIELD = '*';

const PREVIOUS = '__PREVIOUS__';

// KEYS: breaker modes, events. ARGV: field, mode ('' clears it), event JSON (with the previous
// mode's placeholder), events max length. Returns the previous mode ('' for none); an unchanged
// mode writes nothing and records no event.
const setScript = defineScript(`
local previous = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if previous == ARGV[2] then return {previous, 0} end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
local prev = 'null'
if previous ~= '' then prev = '"' .. previous .. '"' end
local event = string.gsub(ARGV[3], '"${PREVIOUS}"', prev)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', '${EVENT_FIELD}', event)
return {previous, 1}
`);

export interface ModeChange {
  /** The account; null for the default. */
  accountId: string | null;
  mode: BreakerMode | null;
  previous: BreakerMode | null;
  /** False when the mode was that already (no event). */
  changed: boolean;
}

const asMode = (v: string | null | undefined): BreakerMode | null =>
  v && (BREAKER_MODES as readonly string[]).includes(v) ? (v as BreakerMode) : null;

/**
 * Set (or clear, `mode` null) the run-time mode of an account, or the default's
 * (`accountId` null); `actor`: who (the event says so).
 */
export async function setBreakerMode(
  redis: Redis,
  keys: Keys,
  accountId: string | null,
  mode: BreakerMode | null,
  actor: string | null,
  eventsMaxLen: number,
  now = new Date(),
): Promise<ModeChange> {
  const event = {
    type: 'breaker.mode_changed',
    account_id: accountId,
    mode,
    previous: PREVIOUS as unknown as null,
    actor: ACTOR_MARK,
    at: now.toISOString(),
  } satisfies BreakerModeChangedEvent;
  const [previous, changed] = (await setScript(
    redis,
    [keys.breakerModes, keys.events],
    [
      accountId ?? DEFAULT_MODE_FIELD,
      mode ?? '',
      withActor(JSON.stringify(event), actor),
      eventsMaxLen,
    ],
  )) as [string, number];
  return { accountId, mode, previous: asMode(previous), changed: changed === 1 };
}

/** The run-time modes: the default's (null: none) and the accounts' own. */
export interface RuntimeModes {
  default: BreakerMode | null;
  accounts: Record<string, BreakerMode>;
}

export async function readBreakerModes(redis: Redis, keys: Keys): Promise<RuntimeModes> {
  const h = await redis.hgetall(keys.breakerModes);
  const accounts: Record<string, BreakerMode> = {};
  for (const [field, value] of Object.entries(h)) {
    const mode = asMode(value);
    if (field !== DEFAULT_MODE_FIELD && mode) accounts[field] = mode;
  }
  return { default: asMode(h[DEFAULT_MODE_FIELD]), accounts };
}

/** Where an account's mode comes from, most specific first (as the trip step reads it). */
export type ModeSource = 'runtime_account' | 'settings_account' | 'runtime_default' | 'settings';

export interface EffectiveMode {
  mode: BreakerMode;
  from: ModeSource;
}

/** An account's mode now: what the trip step would use (keep the two in step). */
export function effectiveMode(
  rules: Pick<BreakerRules, 'mode' | 'ownMode'>,
  runtime: { default: BreakerMode | null; account: BreakerMode | null },
): EffectiveMode {
  if (runtime.account) return { mode: runtime.account, from: 'runtime_account' };
  if (rules.ownMode) return { mode: rules.mode, from: 'settings_account' };
  if (runtime.default) return { mode: runtime.default, from: 'runtime_default' };
  return { mode: rules.mode, from: 'settings' };
}

/** One account's effective mode, read from Redis. */
export async function readEffectiveMode(
  redis: Redis,
  keys: Keys,
  accountId: string,
  rules: Pick<BreakerRules, 'mode' | 'ownMode'>,
): Promise<EffectiveMode> {
  const [account, fallback] = await redis.hmget(keys.breakerModes, accountId, DEFAULT_MODE_FIELD);
  return effectiveMode(rules, { account: asMode(account), default: asMode(fallback) });
}
