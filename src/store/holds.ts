/**
 * Holds: an account's reasons to stay off, in the hash `<prefix>:holds:<account>`, one field
 * per hold (`h:<hold id>` -> the hold as JSON) and the account's *base* (field `before`:
 * `active`, `inactive` or `unknown`): what it would be without the project's holds, fixed when
 * the first hold is taken.
 *
 * The one rule every source follows, decided here and nowhere else: an account's desired state
 * is `inactive` while it has any hold, and its base otherwise.
 * - Taking a hold: the base is what the project knows the account is or is about to be
 *   (known-state.ts: an intent of ours still queued or running, else the freshest read or
 *   answer recorded, else `unknown`), and the step answers whether the account must still be
 *   switched off (`needOff`): always, unless nothing of ours is pending and the freshest
 *   knowledge already says `inactive`.
 * - Releasing the last hold: when the base is `active` (or the operator asks, for `manual`),
 *   the activation is bound in the same step ({@link releaseHolds}), so a hold taken a moment
 *   later sees it pending and switches the account off again after it. An `unknown` base is
 *   never switched back on by itself.
 * - No activation is bound while a hold stands (claim-keys.ts) and none calls the API while
 *   one stands (begin-run.ts): checked at the call.
 *
 * The Lua parts (hold-lua.ts) are shared with scripts that take or release a hold in the same
 * step as their own change (the breaker's trip and reset, a window's start and end); what a
 * step is given (hold ids, stored holds, reads) is in hold-record.ts.
 */
import {
  BASE_STATES,
  fingerprintParts,
  normalizeSource,
  type BaseState,
  type Hold,
  type Source,
} from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import {
  BEFORE_FIELD,
  HOLD_FIELD,
  SINCE_FIELD,
  claimActivationLua,
  indexLaterLua,
  releaseHoldLua,
  takeHoldLua,
} from './hold-lua.js';
import { encodeHold, type HoldInput, type Seen } from './hold-record.js';
import type { Keys } from './keys.js';
import { KEYS_CHANGED, knownPrefixes, knownStateLua, runWithKnownKeys } from './known-state.js';
import { defineScript } from './script.js';

/** The base of an account: what it would be without the project's holds. */
export const BEFORE_STATES = BASE_STATES;
export type BeforeState = BaseState;

/** One account a hold step takes, with what the source read of it (if it read it). */
export interface HoldTarget {
  accountId: string;
  seen?: Seen | undefined;
}

/** What taking a hold did on one account. */
export interface TakeResult {
  /** The hold is new (false: the account had this hold already). */
  taken: boolean;
  /** The account's base (fixed by its first hold). */
  base: BeforeState;
  /**
   * The account must be switched off: something of ours is pending for it, or it is not known
   * to be off. A source that takes a hold enqueues its deactivation when this is true.
   */
  needOff: boolean;
}

// KEYS: index, then the targets' known keys (known-state.ts). ARGV: known prefixes JSON, hold
// id, hold JSON, now ms, targets JSON ([[id, seen part or '', seen ms or ''], ...]). Returns,
// per target, {taken, base, needOff}.
const takeManyScript = defineScript(`
${knownStateLua}
local KP = cjson.decode(ARGV[1])
local targets, ids = cjson.decode(ARGV[5]), {}
for i, t in ipairs(targets) do ids[i] = t[1] end
if not sdxKeysHold(KP, ids) then return '${KEYS_CHANGED}' end
local out, indexed = {}, {}
for i, t in ipairs(targets) do
  sdxObserve(KP, t[1], t[2], t[3])
  local HOLDS = KP[5] .. t[1]
  ${takeHoldLua('HOLDS', 'KEYS[1]', 't[1]', 'ARGV[2]', 'ARGV[3]', 'ARGV[4]', 'indexed')}
  out[i] = {taken, base, needOff and 1 or 0}
end
${indexLaterLua('KEYS[1]', 'indexed')}
return out
`);

/**
 * Take the same hold on many accounts in one step (a bulk run's chunk, a window's accounts,
 * an operator's deactivate); what each source read of them is recorded first. Answers, per
 * account in order, what the step did.
 */
export async function takeHolds(
  redis: Redis,
  keys: Keys,
  targets: readonly HoldTarget[],
  hold: HoldInput,
  now = new Date(),
): Promise<TakeResult[]> {
  if (targets.length === 0) return [];
  const reply = (await runWithKnownKeys(
    takeManyScript,
    redis,
    keys,
    [keys.holdsIndex],
    targets.map((t) => t.accountId),
    [],
    [
      knownPrefixes(keys),
      hold.id,
      encodeHold(hold, now),
      now.getTime(),
      JSON.stringify(
        targets.map((t) => [t.accountId, t.seen?.part ?? '', t.seen?.updatedMs ?? '']),
      ),
    ],
  )) as [number, string, number][];
  return reply.map(([taken, base, needOff]) => ({
    taken: taken === 1,
    base: beforeState(base),
    needOff: needOff === 1,
  }));
}

/** Take a hold on one account (see {@link takeHolds}). */
export async function takeHold(
  redis: Redis,
  keys: Keys,
  accountId: string,
  hold: HoldInput,
  seen?: Seen,
  now = new Date(),
): Promise<TakeResult> {
  const [r] = await takeHolds(redis, keys, [{ accountId, seen }], hold, now);
  if (!r) throw new Error('take-holds script answered nothing');
  return r;
}

export type ReleaseResult =
  /** The account had no such hold: nothing changed. */
  | { released: false }
  /** Other holds keep the account off. */
  | { released: true; last: false; heldBy: string[] }
  /** That was the last hold: the account goes back to its base. */
  | { released: true; last: true; before: BeforeState };

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

/**
 * The activation a release binds in its own step when the account goes back on: its key
 * (`source` is the intent's), and when: `base` (the last hold released, base `active`),
 * `base-if-off` (the same, unless the account is known to be on: nothing to undo) or `force`
 * (no hold left, whatever the base: an operator's `activate`).
 */
export interface ReleaseActivation {
  key: string;
  source: Source;
  mode: 'base' | 'base-if-off' | 'force';
}

/** What a release did on one account, and the activation it bound (if any). */
export interface ReleaseOutcome {
  result: ReleaseResult;
  /** The hold ids left on the account (whether or not this release found its hold). */
  heldBy: string[];
  /**
   * The activation bound by this step (`new`) or found bound (`queued` or a terminal state);
   * null when the account stays off. The caller enqueues it (its job is added again if lost).
   */
  activation: { key: string; state: string; seq: number } | null;
}

// KEYS: index, then the targets' known keys (known-state.ts, with their activation keys).
// ARGV: known prefixes JSON, hold id, now ms, targets JSON ([[id, activation key or '',
// fingerprint, source, mode], ...]). Returns per target {released, before or '', left,
// claimed state or '', claimed seq}.
const releaseManyScript = defineScript(`
${knownStateLua}
local KP = cjson.decode(ARGV[1])
local targets, ids = cjson.decode(ARGV[4]), {}
for i, t in ipairs(targets) do ids[i] = t[1] end
if not sdxKeysHold(KP, ids) then return '${KEYS_CHANGED}' end
local out = {}
for i, t in ipairs(targets) do
  local id = t[1]
  local HOLDS = KP[5] .. id
  ${releaseHoldLua('HOLDS', 'KEYS[1]', 'id', 'ARGV[2]')}
  ${claimActivationLua('id', 't[2]', 't[3]', 't[4]', 't[5]', 'ARGV[3]')}
  out[i] = {released, before or '', left, claimed or '', claimedSeq}
end
return out
`);

/**
 * Release the same hold of many accounts in one step. With `activation`, an account that goes
 * back on (see {@link ReleaseActivation}) has its activation bound in the same step: a hold
 * taken right after finds it pending, and no interleaving leaves it on under that hold.
 */
export async function releaseHolds(
  redis: Redis,
  keys: Keys,
  accountIds: readonly string[],
  holdId: string,
  activation?: (accountId: string) => ReleaseActivation | undefined,
  now = new Date(),
): Promise<ReleaseOutcome[]> {
  if (accountIds.length === 0) return [];
  const targets = accountIds.map((id) => {
    const a = activation?.(id);
    if (!a) return [id, '', '', '', 'base'];
    const [head, tail] = fingerprintParts('activate', a.source);
    return [id, a.key, `${head}${id}${tail}`, a.source, a.mode];
  });
  const reply = (await runWithKnownKeys(
    releaseManyScript,
    redis,
    keys,
    [keys.holdsIndex],
    accountIds,
    targets.map((t) => t[1] ?? ''),
    [knownPrefixes(keys), holdId, now.getTime(), JSON.stringify(targets)],
  )) as [number, string, string[], string, number][];
  return reply.map(([released, before, left, claimed, seq], i) => {
    if (claimed === 'conflict') {
      throw new Error(
        `release of ${holdId}: the activation key of ${accountIds[i]} is bound to another intent`,
      );
    }
    const key = (targets[i] as string[])[1] ?? '';
    return {
      result: releaseResult([released, before, left]),
      heldBy: [...left].sort(),
      activation: claimed === '' ? null : { key, state: claimed, seq },
    };
  });
}

/** Release one hold of an account; says whether it was the last one. */
export async function releaseHold(
  redis: Redis,
  keys: Keys,
  accountId: string,
  holdId: string,
): Promise<ReleaseResult> {
  const [r] = await releaseHolds(redis, keys, [accountId], holdId);
  if (!r) throw new Error('release-holds script answered nothing');
  return r.result;
}

export interface AccountHolds {
  accountId: string;
  holds: Hold[];
  before: BeforeState;
  /** When the first of the current holds was taken. */
  since: string | null;
}

/** An account's holds (an empty list when it has none). */
export async function readHolds(
  redis: Redis,
  keys: Keys,
  accountId: string,
): Promise<AccountHolds> {
  const h = await redis.hgetall(keys.holds(accountId));
  const holds: Hold[] = [];
  for (const [field, value] of Object.entries(h)) {
    if (!field.startsWith(HOLD_FIELD)) continue;
    const hold = JSON.parse(value) as Omit<Hold, 'id'>;
    holds.push({
      id: field.slice(HOLD_FIELD.length),
      ...hold,
      source: normalizeSource(hold.source),
      // Holds stored before actors existed have none.
      actor: hold.actor ?? null,
    });
  }
  holds.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  const since = Number(h[SINCE_FIELD]);
  return {
    accountId,
    holds,
    before: beforeState(h[BEFORE_FIELD]),
    since: Number.isFinite(since) && h[SINCE_FIELD] ? new Date(since).toISOString() : null,
  };
}

/** Accounts with at least one hold, oldest first hold first. */
export async function listHeldAccounts(redis: Redis, keys: Keys, limit = 1000): Promise<string[]> {
  return redis.zrange(keys.holdsIndex, 0, Math.max(0, limit - 1));
}
