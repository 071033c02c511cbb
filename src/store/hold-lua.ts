/**
 * The Lua parts of a hold, shared by every script that takes or releases one in the same step
 * as its own change (holds.ts's own steps, the breaker's trip and reset, a window's start and
 * end): take, release, list, and bind the activation a last release asks for. The hash they
 * work on and the rule they keep are described in holds.ts.
 */
export const HOLD_FIELD = 'h:';
export const BEFORE_FIELD = 'before';
export const SINCE_FIELD = 'since';
/** Fields of the hash that are not holds. */
export const META_FIELDS = 2;

/**
 * Lua: take hold `HOLD_ID` (its JSON `HOLD`) on account `ID`; the first hold also fixes the
 * base (what the project knows the account is, see known-state.ts) and indexes the account.
 * Needs the local `KP` (decoded {@link knownPrefixes}) and {@link knownStateLua} in scope.
 * Sets the locals `taken` (1 new, 0 already held by that id), `base` (the account's base) and
 * `needOff` (true unless nothing of ours is pending and the account is known to be off).
 * `indexLater`: the name of a Lua table to append `NOW, ID` to instead of indexing at once (a
 * many-account step indexes them all with one ZADD: see {@link indexLaterLua}).
 */
export function takeHoldLua(
  HOLDS: string,
  INDEX: string,
  ID: string,
  HOLD_ID: string,
  HOLD: string,
  NOW: string,
  indexLater?: string,
): string {
  const index = indexLater
    ? `${indexLater}[#${indexLater} + 1] = ${NOW}
  ${indexLater}[#${indexLater} + 1] = ${ID}`
    : `redis.call('ZADD', ${INDEX}, ${NOW}, ${ID})`;
  return `
local pending = sdxPending(KP, ${ID})
local known = pending or sdxRecorded(KP, ${ID})
local needOff = pending ~= false or known ~= 'inactive'
local taken, base = 1, known
if redis.call('EXISTS', ${HOLDS}) == 0 then
  redis.call('HSET', ${HOLDS}, '${BEFORE_FIELD}', known, '${SINCE_FIELD}', ${NOW},
    '${HOLD_FIELD}' .. ${HOLD_ID}, ${HOLD})
  ${index}
else
  taken = redis.call('HSETNX', ${HOLDS}, '${HOLD_FIELD}' .. ${HOLD_ID}, ${HOLD})
  base = redis.call('HGET', ${HOLDS}, '${BEFORE_FIELD}') or 'unknown'
end
`;
}

/** Lua: index the accounts a many-account step collected in table `LIST` (score, id, ...). */
export function indexLaterLua(INDEX: string, LIST: string): string {
  return `
for from = 1, #${LIST}, 2000 do
  redis.call('ZADD', ${INDEX}, unpack(${LIST}, from, math.min(from + 1999, #${LIST})))
end
`;
}

/**
 * Lua: release hold `HOLD_ID` of account `ID`. Sets the locals `released` (1 if it was held),
 * `left` (the other hold ids, a table) and `before` (the base, set only when no hold is left:
 * the record is gone then; `false` otherwise).
 */
export function releaseHoldLua(HOLDS: string, INDEX: string, ID: string, HOLD_ID: string): string {
  return `
local released = redis.call('HDEL', ${HOLDS}, '${HOLD_FIELD}' .. ${HOLD_ID})
local left, before = {}, false
if released == 1 then
  if redis.call('HLEN', ${HOLDS}) <= ${META_FIELDS} then
    before = redis.call('HGET', ${HOLDS}, '${BEFORE_FIELD}') or 'unknown'
    redis.call('DEL', ${HOLDS})
    redis.call('ZREM', ${INDEX}, ${ID})
  end
end
if before == false then
  ${holdIdsLua(HOLDS, 'left')}
end
`;
}

/** Lua: append the ids of the holds in `HOLDS` to the table `OUT`. */
export function holdIdsLua(HOLDS: string, OUT: string): string {
  return `for _, f in ipairs(redis.call('HKEYS', ${HOLDS})) do
    if string.sub(f, 1, ${HOLD_FIELD.length}) == '${HOLD_FIELD}' then
      ${OUT}[#${OUT} + 1] = string.sub(f, ${HOLD_FIELD.length + 1})
    end
  end`;
}

/**
 * Lua, after {@link releaseHoldLua}: bind the activation `KEY` (fingerprint `FP`, source
 * `SOURCE`) when `MODE` says the account goes back on: `base` when this release was the last
 * hold and the base is `active`; `base-if-off` the same, unless the account is known to be on
 * already (nothing of ours pending, recorded active: a release whose source never switched it
 * off); `force` (an operator's activate) when no hold is left at all, whatever the base. Sets `claimed` (the binding's state: `new`, an existing state, or false
 * when nothing was bound) and `claimedSeq`.
 */
export function claimActivationLua(
  ID: string,
  KEY: string,
  FP: string,
  SOURCE: string,
  MODE: string,
  NOW: string,
): string {
  return `
local claimed, claimedSeq = false, 0
if ${KEY} ~= '' then
  local goes = false
  if ${MODE} == 'force' then
    goes = #left == 0
  else
    goes = released == 1 and before == 'active'
    if goes and ${MODE} == 'base-if-off' then goes = sdxKnown(KP, ${ID}) ~= 'active' end
  end
  if goes then
    claimed, claimedSeq = sdxClaim(KP, ${KEY}, ${FP}, 'activate', ${ID}, ${SOURCE}, ${NOW})
  end
end
`;
}
