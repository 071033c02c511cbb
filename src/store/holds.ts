/**
 * Holds: an account's reasons to stay off, in the hash `<prefix>:holds:<account>`, one field
 * per hold (`h:<hold id>` -> the hold as JSON) and what the account was before the first hold
 * (`before`: `active`, `inactive` or `unknown`). Each source takes and releases only its own
 * hold; the account may come back on only when its last hold is released, and only if it was
 * on before the first one was taken. That decision is what {@link releaseHold} answers; asking
 * for the activation is the releasing source's job.
 *
 * The Lua parts are shared with scripts that take or release a hold in the same step as their
 * own change (the breaker's trip and reset), so the hold and the change never disagree.
 */
import type { Redis } from 'ioredis';
import type { Hold, Source } from '../model.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

/** What an account was when its first hold was taken. */
export const BEFORE_STATES = ['active', 'inactive', 'unknown'] as const;
export type BeforeState = (typeof BEFORE_STATES)[number];

const HOLD_FIELD = 'h:';
const BEFORE_FIELD = 'before';
const SINCE_FIELD = 'since';
/** Fields of the hash that are not holds. */
const META_FIELDS = 2;

/**
 * Lua: take hold `HOLD_ID` (its JSON `HOLD`) on account `ID`; the first hold also records
 * `BEFORE` and indexes the account. Sets the local `taken` (1 new, 0 already held by that id).
 * A first hold is one write of its three fields. `indexLater`: the name of a Lua table to
 * append `NOW, ID` to instead of indexing at once (a many-account step indexes them all with
 * one ZADD: see {@link indexLaterLua}).
 */
export function takeHoldLua(
  HOLDS: string,
  INDEX: string,
  ID: string,
  HOLD_ID: string,
  HOLD: string,
  BEFORE: string,
  NOW: string,
  indexLater?: string,
): string {
  const index = indexLater
    ? `${indexLater}[#${indexLater} + 1] = ${NOW}
  ${indexLater}[#${indexLater} + 1] = ${ID}`
    : `redis.call('ZADD', ${INDEX}, ${NOW}, ${ID})`;
  return `
local taken = 1
if redis.call('EXISTS', ${HOLDS}) == 0 then
  redis.call('HSET', ${HOLDS}, '${BEFORE_FIELD}', ${BEFORE}, '${SINCE_FIELD}', ${NOW},
    '${HOLD_FIELD}' .. ${HOLD_ID}, ${HOLD})
  ${index}
else
  taken = redis.call('HSETNX', ${HOLDS}, '${HOLD_FIELD}' .. ${HOLD_ID}, ${HOLD})
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
 * `left` (the other hold ids, a table) and `before` (the state before the first hold, set only
 * when this was the last hold: the record is gone then).
 */
export function releaseHoldLua(HOLDS: string, INDEX: string, ID: string, HOLD_ID: string): string {
  return `
local released = redis.call('HDEL', ${HOLDS}, '${HOLD_FIELD}' .. ${HOLD_ID})
local left, before = {}, false
if released == 1 then
  if redis.call('HLEN', ${HOLDS}) <= ${META_FIELDS} then
    before = redis.call('HGET', ${HOLDS}, '${BEFORE_FIELD}')
    redis.call('DEL', ${HOLDS})
    redis.call('ZREM', ${INDEX}, ${ID})
  else
    local fields = redis.call('HKEYS', ${HOLDS})
    for _, f in ipairs(fields) do
      if string.sub(f, 1, ${HOLD_FIELD.length}) == '${HOLD_FIELD}' then
        left[#left + 1] = string.sub(f, ${HOLD_FIELD.length + 1})
      end
    end
  end
end
`;
}

export interface HoldInput {
  id: string;
  source: Source;
  ref?: string | null;
  reason?: string;
}

/** A hold as stored (its id is the field name). */
export function encodeHold(hold: HoldInput, at: Date): string {
  const stored: Omit<Hold, 'id'> = {
    source: hold.source,
    ref: hold.ref ?? null,
    reason: hold.reason ?? '',
    at: at.toISOString(),
  };
  return JSON.stringify(stored);
}

// KEYS: holds, index. ARGV: account id, hold id, hold JSON, before, now ms.
const takeScript = defineScript(`
${takeHoldLua('KEYS[1]', 'KEYS[2]', 'ARGV[1]', 'ARGV[2]', 'ARGV[3]', 'ARGV[4]', 'ARGV[5]')}
return {taken, redis.call('HLEN', KEYS[1]) - ${META_FIELDS}}
`);

/**
 * Take a hold on an account. `before` is what the account is now, as the source knows it; it
 * counts only if this is the first hold. Taking a hold the account already has (same id) is a
 * no-op and says so.
 */
export async function takeHold(
  redis: Redis,
  keys: Keys,
  providerId: string,
  hold: HoldInput,
  before: BeforeState,
  now = new Date(),
): Promise<{ taken: boolean; holds: number }> {
  const [taken, holds] = (await takeScript(
    redis,
    [keys.holds(providerId), keys.holdsIndex],
    [providerId, hold.id, encodeHold(hold, now), before, now.getTime()],
  )) as [number, number];
  return { taken: taken === 1, holds };
}

export type ReleaseResult =
  /** The account had no such hold: nothing changed. */
  | { released: false }
  /** Other holds keep the account off. */
  | { released: true; last: false; heldBy: string[] }
  /** That was the last hold: the account may come back on if `before` is `active`. */
  | { released: true; last: true; before: BeforeState };

// KEYS: holds, index. ARGV: account id, hold id.
const releaseScript = defineScript(`
${releaseHoldLua('KEYS[1]', 'KEYS[2]', 'ARGV[1]', 'ARGV[2]')}
return {released, before or '', left}
`);

/** Release one hold of an account; says whether it was the last one. */
export async function releaseHold(
  redis: Redis,
  keys: Keys,
  providerId: string,
  holdId: string,
): Promise<ReleaseResult> {
  const reply = (await releaseScript(
    redis,
    [keys.holds(providerId), keys.holdsIndex],
    [providerId, holdId],
  )) as [number, string, string[]];
  return releaseResult(reply);
}

/** Reads the reply of a script that ends with `{released, before or '', left}`. */
export function releaseResult([released, before, left]: [number, string, string[]]): ReleaseResult {
  if (released !== 1) return { released: false };
  if (before !== '') return { released: true, last: true, before: beforeState(before) };
  return { released: true, last: false, heldBy: [...left].sort() };
}

function beforeState(value: string | undefined): BeforeState {
  return (BEFORE_STATES as readonly string[]).includes(value ?? '')
    ? (value as BeforeState)
    : 'unknown';
}

export interface AccountHolds {
  providerId: string;
  holds: Hold[];
  before: BeforeState;
  /** When the first of the current holds was taken. */
  since: string | null;
}

/** An account's holds (an empty list when it has none). */
export async function readHolds(
  redis: Redis,
  keys: Keys,
  providerId: string,
): Promise<AccountHolds> {
  const h = await redis.hgetall(keys.holds(providerId));
  const holds: Hold[] = [];
  for (const [field, value] of Object.entries(h)) {
    if (!field.startsWith(HOLD_FIELD)) continue;
    holds.push({ id: field.slice(HOLD_FIELD.length), ...(JSON.parse(value) as Omit<Hold, 'id'>) });
  }
  holds.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  const since = Number(h[SINCE_FIELD]);
  return {
    providerId,
    holds,
    before: beforeState(h[BEFORE_FIELD]),
    since: Number.isFinite(since) && h[SINCE_FIELD] ? new Date(since).toISOString() : null,
  };
}

/** Accounts with at least one hold, oldest first hold first. */
export async function listHeldAccounts(redis: Redis, keys: Keys, limit = 1000): Promise<string[]> {
  return redis.zrange(keys.holdsIndex, 0, Math.max(0, limit - 1));
}

/** One account a many-account hold step takes, with what it is now. */
export interface HoldTarget {
  providerId: string;
  before: BeforeState;
}

// KEYS: index. ARGV: holds key prefix (`holds('')`), hold id, hold JSON, now ms, targets JSON
// ([[id, before], ...]). Returns, per target, 1 taken or 0 held already.
const takeManyScript = defineScript(`
local out, indexed = {}, {}
for i, t in ipairs(cjson.decode(ARGV[5])) do
  local HOLDS = ARGV[1] .. t[1]
  ${takeHoldLua('HOLDS', 'KEYS[1]', 't[1]', 'ARGV[2]', 'ARGV[3]', 't[2]', 'ARGV[4]', 'indexed')}
  out[i] = taken
end
${indexLaterLua('KEYS[1]', 'indexed')}
return out
`);

/**
 * Take the same hold on many accounts in one step (a bulk run's chunk, a window's accounts).
 * Answers, per account in order, whether the hold is new.
 */
export async function takeHolds(
  redis: Redis,
  keys: Keys,
  targets: readonly HoldTarget[],
  hold: HoldInput,
  now = new Date(),
): Promise<boolean[]> {
  if (targets.length === 0) return [];
  const reply = (await takeManyScript(
    redis,
    [keys.holdsIndex],
    [
      keys.holds(''),
      hold.id,
      encodeHold(hold, now),
      now.getTime(),
      JSON.stringify(targets.map((t) => [t.providerId, t.before])),
    ],
  )) as number[];
  return reply.map((n) => n === 1);
}

// KEYS: index. ARGV: holds key prefix, hold id, ids JSON. Returns per id
// {released, before or '', left}.
const releaseManyScript = defineScript(`
local out = {}
for i, id in ipairs(cjson.decode(ARGV[3])) do
  local HOLDS = ARGV[1] .. id
  ${releaseHoldLua('HOLDS', 'KEYS[1]', 'id', 'ARGV[2]')}
  out[i] = {released, before or '', left}
end
return out
`);

/** Release the same hold of many accounts in one step; one {@link ReleaseResult} per id. */
export async function releaseHolds(
  redis: Redis,
  keys: Keys,
  providerIds: readonly string[],
  holdId: string,
): Promise<ReleaseResult[]> {
  if (providerIds.length === 0) return [];
  const reply = (await releaseManyScript(
    redis,
    [keys.holdsIndex],
    [keys.holds(''), holdId, JSON.stringify(providerIds)],
  )) as [number, string, string[]][];
  return reply.map(releaseResult);
}
