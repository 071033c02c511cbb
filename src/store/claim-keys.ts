/**
 * Bind idempotency keys to intents, all-or-nothing, in one round trip per chunk.
 *
 * A key already bound to another intent fails the whole chunk (nothing is written). A key
 * bound to the same intent reports its state and sequence number, so the producer can return
 * the existing job. A new binding gets the next sequence number, becomes the newest intent of
 * its account (older intents still waiting for that account will end as superseded), enters
 * the pending set, and has no expiry until its outcome is recorded.
 */
import { sameFingerprint, type IntentState } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { B, bindLua } from './binding.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

// KEYS: sequence, pending, then per claim its binding, its account's order and holds keys (every
// key the script touches is declared, for Redis Cluster; see script.ts). ARGV: now, claims as JSON ([[key, fingerprint, action, provider
// id, source], ...]), the binding key prefix, the account order key prefix, the holds key
// prefix. A new activation of an account that has a hold is not bound: it answers `held`
// (holds.ts: no activation is asked for while a hold stands; the release that lets the account
// go binds its own).
// A chunk's claims travel as one JSON value rather than seven arguments each: the client's cost
// of a command grows with its argument count (a string built per argument). The binding and
// order keys are named here from their prefixes (keys.ts owns the names), and declared in KEYS
// by the caller all the same (Redis Cluster needs every key a script touches there).
// Per claim one read and three writes; the sequence numbers and the pending set are written
// once per chunk (a block of numbers, in claim order; ZADD in slices under Lua's unpack limit).
const claimScript = defineScript(`
local now = ARGV[1]
local claims = cjson.decode(ARGV[2])
local bindingPrefix, orderPrefix = ARGV[3], ARGV[4]
local n = #claims
local found = {}
local fresh = 0
for i = 1, n do
  local c = claims[i]
  local h = redis.call('HMGET', bindingPrefix .. c[1], '${B.fingerprint}', '${B.state}', '${B.seq}')
  if h[1] and h[1] ~= c[2] and string.gsub(h[1], ' by maintenance$', ' by window') ~= c[2] then
    return {'conflict', i, h[1]}
  end
  if not h[2] then
    if c[3] == 'activate' and redis.call('EXISTS', ARGV[5] .. c[4]) == 1 then
      h[2] = 'held'
      h[3] = 0
    else
      fresh = fresh + 1
    end
  end
  found[i] = h
end
local seq = 0
if fresh > 0 then seq = redis.call('INCRBY', KEYS[1], fresh) - fresh end
local out, pending = {}, {}
for i = 1, n do
  local h = found[i]
  if h[2] then
    out[#out + 1] = h[2]
    out[#out + 1] = h[3]
  else
    local c = claims[i]
    local binding = bindingPrefix .. c[1]
    seq = seq + 1
    ${bindLua('binding', 'c[2]', 'seq', 'c[3]', 'c[4]', 'c[5]', 'now')}
    pending[#pending + 1] = now
    pending[#pending + 1] = c[1]
    redis.call('HSET', orderPrefix .. c[4], 'seq', seq, 'key', c[1])
    out[#out + 1] = 'new'
    out[#out + 1] = seq
  end
end
for from = 1, #pending, 2000 do
  redis.call('ZADD', KEYS[2], unpack(pending, from, math.min(from + 1999, #pending)))
end
return {'ok', out}
`);

export interface Claim {
  key: string;
  fingerprint: string;
  action: string;
  accountId: string;
  source: string;
}

/**
 * `new`: just bound; `held`: an activation not bound because the account has a hold; otherwise
 * the state of the existing binding of the same intent.
 */
export type ClaimState = 'new' | 'held' | IntentState;

export interface Conflict {
  key: string;
  existing: string;
  requested: string;
}

export type ClaimResult =
  { ok: true; claimed: { state: ClaimState; seq: number }[] } | { ok: false; conflict: Conflict };

export async function claimKeys(
  redis: Redis,
  keys: Keys,
  claims: readonly Claim[],
  now = Date.now(),
): Promise<ClaimResult> {
  if (claims.length === 0) return { ok: true, claimed: [] };
  const json = JSON.stringify(
    claims.map((c) => [c.key, c.fingerprint, c.action, c.accountId, c.source]),
  );
  const touched = new Set<string>();
  for (const c of claims) {
    touched.add(keys.binding(c.key));
    touched.add(keys.accountOrder(c.accountId));
    touched.add(keys.holds(c.accountId));
  }
  const reply = (await claimScript(
    redis,
    [keys.sequence, keys.pending, ...touched],
    [now, json, keys.binding(''), keys.accountOrder(''), keys.holds('')],
  )) as [string, ...unknown[]];
  if (reply[0] === 'conflict') {
    const claim = claims[Number(reply[1]) - 1];
    if (!claim) throw new Error('claim script returned an unknown index');
    return {
      ok: false,
      conflict: { key: claim.key, existing: String(reply[2]), requested: claim.fingerprint },
    };
  }
  const flat = reply[1] as string[];
  const claimed: { state: ClaimState; seq: number }[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    claimed.push({ state: flat[i] as ClaimState, seq: Number(flat[i + 1]) });
  }
  return { ok: true, claimed };
}

/** Read-only check: the first key bound to a different intent, if any. One round trip. */
export async function findConflict(
  redis: Redis,
  keys: Keys,
  claims: readonly Claim[],
): Promise<Conflict | undefined> {
  if (claims.length === 0) return undefined;
  const pipeline = redis.pipeline();
  for (const c of claims) pipeline.hget(keys.binding(c.key), B.fingerprint);
  const replies = (await pipeline.exec()) ?? [];
  for (let i = 0; i < claims.length; i++) {
    const [err, fp] = replies[i] ?? [null, null];
    if (err) throw err;
    const claim = claims[i];
    if (claim && typeof fp === 'string' && !sameFingerprint(fp, claim.fingerprint)) {
      return { key: claim.key, existing: fp, requested: claim.fingerprint };
    }
  }
  return undefined;
}
