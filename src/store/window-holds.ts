/**
 * A window occurrence's hold steps (the record is window-occurrence.ts): at the start, take the
 * window's hold on every target and record what the start decided for each (`b:<account>`);
 * at the end, release it and decide, once per account, whether it goes back on (`e:<account>`),
 * binding the activation in the same step. Both run under the known-state key check.
 */
import { fingerprintParts } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
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
import {
  decisionOf,
  startDecisionOf,
  type EndDecision,
  type OccurrenceRef,
  type StartDecision,
} from './window-occurrence.js';

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
