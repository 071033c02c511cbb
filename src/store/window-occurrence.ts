/**
 * One occurrence of a maintenance window: the hash `<prefix>:window:<id>:o:<occurrence>`.
 *
 * ```
 * state       starting -> started -> ended, or skipped (it had ended before it could start)
 * starts_at ends_at (ms)   begun_at started_at ended_at (ms)   cancelled (1: ended early)
 * b:<account> what the start decided for it: switch_off | already_off | missing (written
 *             once, so a start run again after a crash decides the same)
 * e:<account> what the end did for it: reactivate | off | unknown | held:<hold ids JSON> |
 *             gone | conflict
 * ```
 *
 * Every step is one Lua script that checks the state first: several processes, or a step run
 * again after a crash, change nothing twice and put one event on the stream.
 */
import { fingerprintParts } from '../model.js';
import type { RedisClient as Redis } from '../redis.js';
import { EVENT_FIELD } from './event-codec.js';
import { claimActivationLua, releaseHoldLua, takeHoldLua } from './hold-lua.js';
import { encodeHold, type HoldInput, type Seen } from './hold-record.js';
import type { Keys } from './keys.js';
import {
  KEYS_CHANGED,
  knownKeys,
  knownPrefixes,
  knownStateLua,
  runWithKnownKeys,
  untilKeysHold,
} from './known-state.js';
import { defineScript } from './script.js';

export const OCCURRENCE_STATES = ['starting', 'started', 'ended', 'skipped'] as const;
export type OccurrenceState = (typeof OCCURRENCE_STATES)[number];

export interface OccurrenceRecord {
  window_id: string;
  occurrence: string;
  state: OccurrenceState;
  starts_at: string;
  ends_at: string;
  started_at: string | null;
  ended_at: string | null;
  cancelled: boolean;
  /** What the start decided for each target (see {@link StartDecision}). */
  start: Record<string, StartDecision>;
  /** What the end did, per account (after the end). */
  end: Record<string, EndDecision>;
}

export type EndDecision =
  | { do: 'reactivate' }
  | { do: 'off' }
  | { do: 'unknown' }
  | { do: 'held'; heldBy: string[] }
  | { do: 'gone' }
  | { do: 'conflict' };

/** What an occurrence's start decided for a target (kept as `b:<account>`, written once). */
export type StartDecision = 'switch_off' | 'already_off' | 'missing';

/** Reads a start decision; records of older versions kept what the account was. */
function startDecisionOf(text: string): StartDecision {
  if (text === 'switch_off' || text === 'active') return 'switch_off';
  if (text === 'already_off' || text === 'inactive') return 'already_off';
  return 'missing';
}

// KEYS: occurrence, occurrences. ARGV: occurrence id, starts ms, ends ms, now ms, window id.
// Returns the state (a new occurrence is `starting`).
const beginScript = defineScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if state then return state end
redis.call('HSET', KEYS[1], 'window_id', ARGV[5], 'occurrence', ARGV[1], 'state', 'starting',
  'starts_at', ARGV[2], 'ends_at', ARGV[3], 'begun_at', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 'starting'
`);

export interface OccurrenceRef {
  windowId: string;
  occurrence: string;
}

function occKeys(keys: Keys, o: OccurrenceRef): [string, string] {
  return [keys.windowOccurrence(o.windowId, o.occurrence), keys.windowOccurrences(o.windowId)];
}

/** Begin an occurrence (once); answers its state: `starting` for one to carry on with. */
export async function beginOccurrence(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef & { startsMs: number; endsMs: number },
  now = new Date(),
): Promise<OccurrenceState> {
  return (await beginScript(redis, occKeys(keys, o), [
    o.occurrence,
    o.startsMs,
    o.endsMs,
    now.getTime(),
    o.windowId,
  ])) as OccurrenceState;
}

// KEYS: occurrence, occurrences, events. ARGV: occurrence id, starts ms, ends ms, now ms,
// window id, event JSON, events max length. Returns 1 when skipped now.
const skipScript = defineScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'window_id', ARGV[5], 'occurrence', ARGV[1], 'state', 'skipped',
  'starts_at', ARGV[2], 'ends_at', ARGV[3], 'ended_at', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', '${EVENT_FIELD}', ARGV[6])
return 1
`);

/** Record an occurrence that ended before it could start, with its event (once). */
export async function skipOccurrence(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef & { startsMs: number; endsMs: number },
  event: string,
  eventsMaxLen: number,
  now = new Date(),
): Promise<boolean> {
  const r = await skipScript(
    redis,
    [...occKeys(keys, o), keys.events],
    [o.occurrence, o.startsMs, o.endsMs, now.getTime(), o.windowId, event, eventsMaxLen],
  );
  return r === 1;
}

// KEYS: occurrence, holds index, then the targets' known keys (known-state.ts). ARGV:
// known-state prefixes JSON, hold id, hold JSON, now ms, targets JSON ([[id, read, seen part,
// seen ms], ...], read: 'seen' | 'unreadable' | 'missing'). Returns the recorded start
// decision per target.
const holdScript = defineScript(`
${knownStateLua}
if redis.call('HGET', KEYS[1], 'state') ~= 'starting' then return false end
local KP = cjson.decode(ARGV[1])
local targets, ids = cjson.decode(ARGV[5]), {}
for i, t in ipairs(targets) do ids[i] = t[1] end
if not sdxKeysHold(KP, ids) then return '${KEYS_CHANGED}' end
local out = {}
for i, t in ipairs(targets) do
  local b = redis.call('HGET', KEYS[1], 'b:' .. t[1])
  if not b then
    if t[2] == 'missing' then
      b = 'missing'
    else
      sdxObserve(KP, t[1], t[3], t[4])
      local HOLDS = KP[5] .. t[1]
      ${takeHoldLua('HOLDS', 'KEYS[2]', 't[1]', 'ARGV[2]', 'ARGV[3]', 'ARGV[4]')}
      if needOff then b = 'switch_off' else b = 'already_off' end
    end
    redis.call('HSET', KEYS[1], 'b:' .. t[1], b)
  end
  out[i] = b
end
return out
`);

/** What a start read of one target: its item, or that it could not read it, or a 404. */
export type TargetRead =
  | { accountId: string; read: 'seen'; seen: Seen }
  | { accountId: string; read: 'unreadable' | 'missing' };

/**
 * Hold every target the API knows (an unreadable one too), recording what was read with it,
 * and decide once per target what the start does (the first decision of this occurrence wins,
 * so a start run again after a crash decides the same): `switch_off` (store/holds.ts: the
 * account must be switched off), `already_off` (nothing of ours pending and known to be off)
 * or `missing` (the API does not know it: no hold). Undefined when the occurrence is not
 * starting any more.
 */
export async function holdForOccurrence(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef,
  targets: readonly TargetRead[],
  hold: HoldInput,
  now = new Date(),
): Promise<StartDecision[] | undefined> {
  const reply = (await runWithKnownKeys(
    holdScript,
    redis,
    keys,
    [keys.windowOccurrence(o.windowId, o.occurrence), keys.holdsIndex],
    targets.map((t) => t.accountId),
    [],
    [
      knownPrefixes(keys),
      hold.id,
      encodeHold(hold, now),
      now.getTime(),
      JSON.stringify(
        targets.map((t) =>
          t.read === 'seen'
            ? [t.accountId, t.read, t.seen.part, t.seen.updatedMs]
            : [t.accountId, t.read, '', ''],
        ),
      ),
    ],
  )) as string[] | null;
  return reply?.map(startDecisionOf);
}

// KEYS: occurrence, events. ARGV: from state, to state, time field, now ms, max len, cancelled
// flag, then the events' JSON (one or more). Returns 1 when it moved (and the events went out).
const moveScript = defineScript(`
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], ARGV[3], ARGV[4])
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'cancelled', '1') end
for i = 7, #ARGV do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', '${EVENT_FIELD}', ARGV[i])
end
return 1
`);

/**
 * `starting` -> `started`, with the `window.started` event (and a `window.failed` one when
 * given); false when it was not starting.
 */
export async function markStarted(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef,
  events: readonly string[],
  eventsMaxLen: number,
  now = new Date(),
): Promise<boolean> {
  const r = await moveScript(
    redis,
    [keys.windowOccurrence(o.windowId, o.occurrence), keys.events],
    ['starting', 'started', 'started_at', now.getTime(), eventsMaxLen, '0', ...events],
  );
  return r === 1;
}

/** `started` -> `ended`, with the `window.ended` event (and a `window.failed` one when given). */
export async function markEnded(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef,
  events: readonly string[],
  eventsMaxLen: number,
  cancelled: boolean,
  now = new Date(),
): Promise<boolean> {
  const r = await moveScript(
    redis,
    [keys.windowOccurrence(o.windowId, o.occurrence), keys.events],
    ['started', 'ended', 'ended_at', now.getTime(), eventsMaxLen, cancelled ? '1' : '0', ...events],
  );
  return r === 1;
}

// KEYS: occurrence, holds index, then the known keys (known-state.ts) of the accounts ARGV[8]
// names, with their activations' bindings. ARGV: known-state prefixes JSON, hold id, now ms,
// the activation key's start and end (around the account id), the activation fingerprint's
// start and end, the accounts the caller read as still to release (JSON). For every account
// the occurrence held (b:<id>, not missing) without an end decision yet: release the hold and
// decide, once; an account that goes back on has its activation bound in the same step.
// Returns the flat list of e:<id> fields and decisions; KEYS_CHANGED (before any write) when
// an account to release is not among ARGV[8]'s or its keys moved: the caller reads again.
const releaseScript = defineScript(`
${knownStateLua}
if redis.call('HGET', KEYS[1], 'state') ~= 'started' then return false end
local KP = cjson.decode(ARGV[1])
local expected, todo = {}, {}
for _, id in ipairs(cjson.decode(ARGV[8])) do expected[id] = true end
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, 2) == 'b:' then
    local id = string.sub(f, 3)
    if redis.call('HGET', KEYS[1], f) ~= 'missing' and redis.call('HEXISTS', KEYS[1], 'e:' .. id) == 0 then
      if not expected[id] then return '${KEYS_CHANGED}' end
      todo[#todo + 1] = id
    end
  end
end
if not sdxKeysHold(KP, todo) then return '${KEYS_CHANGED}' end
for _, id in ipairs(todo) do
  local HOLDS = KP[5] .. id
  ${releaseHoldLua('HOLDS', 'KEYS[2]', 'id', 'ARGV[2]')}
  ${claimActivationLua('id', 'ARGV[4] .. id .. ARGV[5]', 'ARGV[6] .. id .. ARGV[7]', "'window'", "'base'", 'ARGV[3]')}
  local decision = 'gone'
  if released == 1 then
    if before then
      if claimed and claimed ~= 'conflict' then decision = 'reactivate'
      elseif claimed == 'conflict' then decision = 'conflict'
      elseif before == 'unknown' then decision = 'unknown'
      else decision = 'off' end
    else
      decision = 'held:' .. cjson.encode(left)
    end
  end
  redis.call('HSET', KEYS[1], 'e:' .. id, decision)
end
local out = {}
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, 2) == 'e:' then
    out[#out + 1] = string.sub(f, 3)
    out[#out + 1] = redis.call('HGET', KEYS[1], f)
  end
end
return out
`);

/**
 * Release the occurrence's hold on every account it held, deciding for each (once, kept in
 * the occurrence): `reactivate` (its last hold, base `active`: the activation
 * `activationKey[0] + id + activationKey[1]` is bound in this step), `off` (last hold, base `inactive`), `unknown` (last hold, base
 * unknown: it stays off until an operator's `activate`), `held` (other holds keep it off),
 * `gone` (the hold was no longer there), `conflict` (the activation's key is bound to another
 * intent). Undefined when the occurrence is not started.
 */
export async function releaseForOccurrence(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef,
  holdId: string,
  /** The activation key around the account id: `head + id + tail`. */
  activationKey: readonly [head: string, tail: string],
  now = new Date(),
): Promise<Map<string, EndDecision> | undefined> {
  const [keyHead, keyTail] = activationKey;
  const [fpHead, fpTail] = fingerprintParts('activate', 'window');
  const occurrence = keys.windowOccurrence(o.windowId, o.occurrence);
  const flat = (await untilKeysHold(async () => {
    // The accounts still to release, read first: the script checks them again.
    const h = await redis.hgetall(occurrence);
    const ids = Object.keys(h)
      .filter((f) => f.startsWith('b:') && h[f] !== 'missing' && h[`e:${f.slice(2)}`] === undefined)
      .map((f) => f.slice(2));
    return releaseScript(
      redis,
      [
        occurrence,
        keys.holdsIndex,
        ...(await knownKeys(
          redis,
          keys,
          ids,
          ids.map((id) => `${keyHead}${id}${keyTail}`),
        )),
      ],
      [
        knownPrefixes(keys),
        holdId,
        now.getTime(),
        keyHead,
        keyTail,
        fpHead,
        fpTail,
        JSON.stringify(ids),
      ],
    );
  })) as string[] | null;
  if (!flat) return undefined;
  const out = new Map<string, EndDecision>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.set(flat[i] as string, decisionOf(flat[i + 1] as string));
  }
  return out;
}

function decisionOf(text: string): EndDecision {
  if (
    text === 'reactivate' ||
    text === 'off' ||
    text === 'gone' ||
    text === 'unknown' ||
    text === 'conflict'
  ) {
    return { do: text };
  }
  if (text.startsWith('held:')) {
    const ids = JSON.parse(text.slice(5)) as unknown;
    return { do: 'held', heldBy: Array.isArray(ids) ? (ids as string[]).sort() : [] };
  }
  return { do: 'gone' };
}

/** Move a started (or starting) occurrence's end. */
export async function setOccurrenceEnd(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef,
  endsMs: number,
): Promise<void> {
  await redis.hset(keys.windowOccurrence(o.windowId, o.occurrence), 'ends_at', endsMs);
}

const iso = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : null);

export async function readOccurrence(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef,
): Promise<OccurrenceRecord | undefined> {
  const h = await redis.hgetall(keys.windowOccurrence(o.windowId, o.occurrence));
  if (!h.state) return undefined;
  const start: Record<string, StartDecision> = {};
  const end: Record<string, EndDecision> = {};
  for (const [f, v] of Object.entries(h)) {
    if (f.startsWith('b:')) start[f.slice(2)] = startDecisionOf(v);
    else if (f.startsWith('e:')) end[f.slice(2)] = decisionOf(v);
  }
  return {
    window_id: o.windowId,
    occurrence: o.occurrence,
    state: h.state as OccurrenceState,
    starts_at: iso(h.starts_at) ?? '',
    ends_at: iso(h.ends_at) ?? '',
    started_at: iso(h.started_at),
    ended_at: iso(h.ended_at),
    cancelled: h.cancelled === '1',
    start,
    end,
  };
}

/** A window's occurrences that began (or were skipped), newest first. */
export async function listOccurrences(
  redis: Redis,
  keys: Keys,
  windowId: string,
  limit = 20,
): Promise<string[]> {
  return redis.zrevrange(keys.windowOccurrences(windowId), 0, Math.max(0, limit - 1));
}
