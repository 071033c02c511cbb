/**
 * What the project knows an account is, or is about to be: the one answer every hold and
 * release decides from (holds.ts), in Lua, inside the script that takes or releases the hold.
 *
 * 1. An intent of ours for the account still queued or running (the account's newest intent,
 *    or the one holding its lease): the account is about to be what that intent makes it. The
 *    API is not asked then: a read would show the state before our own call.
 * 2. Otherwise the freshest knowledge there is: the account part of its status hash
 *    (status-record.ts), which our own answers and our reads of the API (the breaker's
 *    account listing, a window's or a bulk run's read: `sdxObserve`) move forward by the
 *    answer's `updated_at` only.
 * 3. Otherwise `unknown`.
 *
 * The same file binds one intent's key inside such a script (`sdxClaim`), so a
 * release that decides "back on" leaves the activation queued in the same atomic step: a hold
 * taken a moment later finds it (1) and switches the account off again after it.
 */
import type { BaseState } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { B, bindLua } from './binding.js';
import type { Keys } from './keys.js';
import type { Script } from './script.js';
import { S } from './status-record.js';

/** What an account is (or is about to be) as far as the project knows (model.ts). */
export type KnownState = BaseState;

/**
 * The key prefixes the Lua functions below name keys from, as one JSON argument: account
 * order, binding, account lease, status, holds, the sequence counter and the pending set.
 * Every key so named is also declared in KEYS ({@link knownKeys}): Redis Cluster needs them
 * there (script.ts).
 */
export function knownPrefixes(keys: Keys): string {
  return JSON.stringify([
    keys.accountOrder(''),
    keys.binding(''),
    keys.accountLease(''),
    keys.status(''),
    keys.holds(''),
    keys.sequence,
    keys.pending,
  ]);
}

/** What a script using {@link knownStateLua} answers when its declared keys are stale. */
export const KEYS_CHANGED = 'sdx:keys-changed';

/**
 * Every key the Lua functions below may touch for these accounts, read now: the sequence
 * counter and the pending set; per account its order, lease, status and holds keys and the
 * bindings of its newest intent and of the intent holding its lease (which keys those are is
 * in Redis: read here, checked again inside the script by `sdxKeysHold`); the bindings of the
 * keys the script may claim. Redis Cluster needs every key a script touches in KEYS.
 */
export async function knownKeys(
  redis: Redis,
  keys: Keys,
  accountIds: readonly string[],
  claimKeys: readonly string[] = [],
): Promise<string[]> {
  const ids = [...new Set(accountIds)];
  const pipeline = redis.pipeline();
  for (const id of ids) {
    pipeline.hget(keys.accountOrder(id), 'key');
    pipeline.get(keys.accountLease(id));
  }
  const replies = ids.length > 0 ? ((await pipeline.exec()) ?? []) : [];
  const out = new Set<string>([keys.sequence, keys.pending]);
  ids.forEach((id, i) => {
    out.add(keys.accountOrder(id));
    out.add(keys.accountLease(id));
    out.add(keys.status(id));
    out.add(keys.holds(id));
    for (const reply of [replies[2 * i], replies[2 * i + 1]]) {
      if (reply?.[0]) throw reply[0];
      const value = reply?.[1];
      if (typeof value === 'string' && value !== '') out.add(keys.binding(value));
    }
  });
  for (const key of claimKeys) if (key !== '') out.add(keys.binding(key));
  return [...out];
}

/**
 * Run a script that uses {@link knownStateLua} for these accounts: `fixed` are its own KEYS
 * (KEYS[1..]), then {@link knownKeys}. The script answers {@link KEYS_CHANGED} (before any
 * write) when an account's newest intent or lease holder moved between the read and the run:
 * read again and retry.
 */
export async function runWithKnownKeys(
  script: Script,
  redis: Redis,
  keys: Keys,
  fixed: readonly string[],
  accountIds: readonly string[],
  claimKeys: readonly string[],
  args: readonly (string | number | Buffer)[],
): Promise<unknown> {
  return untilKeysHold(async () =>
    script(redis, [...fixed, ...(await knownKeys(redis, keys, accountIds, claimKeys))], args),
  );
}

/**
 * Run `attempt` (it reads the keys to declare, then runs its script) again while it answers
 * {@link KEYS_CHANGED}.
 */
export async function untilKeysHold(attempt: () => Promise<unknown>): Promise<unknown> {
  for (let n = 1; ; n++) {
    const reply = await attempt();
    if (reply !== KEYS_CHANGED) return reply;
    if (n >= 100) throw new Error("a script kept finding its accounts' keys changed");
  }
}

/**
 * Lua: the functions every hold script defines once, at its top. `KP` is the decoded
 * {@link knownPrefixes}.
 * - `sdxPending(KP, id)`: 'active' / 'inactive' when an intent of ours is queued or running
 *   (what it will make the account), else false;
 * - `sdxRecorded(KP, id)`: the status hash's account part as 'active' / 'inactive' / 'unknown';
 * - `sdxKnown(KP, id)`: the first of the two;
 * - `sdxObserve(KP, id, part, ms)`: record a read of the API (the account part as JSON, its
 *   `updated_at` in ms or '') when it is newer than what is recorded;
 * - `sdxClaim(KP, key, fp, action, id, source, now)`: bind one key (as claim-keys.ts does) and
 *   make it the account's newest intent; answers `state, seq` (`new` when bound now), or
 *   `'conflict'` when the key is bound to another intent.
 * - `sdxKeysHold(KP, ids)`: whether every binding these accounts lead to (newest intent, lease
 *   holder) is among the declared KEYS ({@link knownKeys}); a script checks it before its
 *   first write and answers {@link KEYS_CHANGED} when not.
 * The key names built here from `KP` are only ever ones {@link knownKeys} declared.
 */
export const knownStateLua = `
local sdxKeySet = {}
for _, k in ipairs(KEYS) do sdxKeySet[k] = true end
local function sdxKeysHold(KP, ids)
  for _, id in ipairs(ids) do
    local newest = redis.call('HGET', KP[1] .. id, 'key')
    if newest and not sdxKeySet[KP[2] .. newest] then return false end
    local lease = redis.call('GET', KP[3] .. id)
    if lease and not sdxKeySet[KP[2] .. lease] then return false end
  end
  return true
end
local function sdxTarget(KP, key)
  if not key then return false end
  local st, act = unpack(redis.call('HMGET', KP[2] .. key, '${B.state}', '${B.action}'))
  if st ~= 'queued' then return false end
  if act == 'activate' then return 'active' end
  return 'inactive'
end
local function sdxPending(KP, id)
  local newestKey = redis.call('HGET', KP[1] .. id, 'key')
  -- No intent was ever asked for the account: none can hold its lease either.
  if not newestKey then return false end
  local newest = sdxTarget(KP, newestKey)
  if newest then return newest end
  return sdxTarget(KP, redis.call('GET', KP[3] .. id))
end
local function sdxRecorded(KP, id)
  local part = redis.call('HGET', KP[4] .. id, '${S.account}')
  if not part then return 'unknown' end
  local ok, a = pcall(cjson.decode, part)
  if not ok or type(a) ~= 'table' then return 'unknown' end
  local s = a['status']
  if s == 'active' or s == 'pending' then return 'active' end
  if s == 'inactive' or s == 'error' then return 'inactive' end
  return 'unknown'
end
local function sdxKnown(KP, id)
  return sdxPending(KP, id) or sdxRecorded(KP, id)
end
local function sdxObserve(KP, id, part, ms)
  if part == '' then return end
  local STATUS = KP[4] .. id
  -- Over what is recorded, only a read that says when it is from, and is newer.
  if redis.call('HEXISTS', STATUS, '${S.account}') == 1 then
    if ms == '' then return end
    local shown = redis.call('HGET', STATUS, '${S.updatedAtMs}')
    if shown and shown ~= '' and tonumber(ms) <= tonumber(shown) then return end
  end
  redis.call('HSET', STATUS, '${S.account}', part, '${S.updatedAtMs}', ms)
end
local function sdxClaim(KP, key, fp, action, id, source, now)
  local binding = KP[2] .. key
  local h = redis.call('HMGET', binding, '${B.fingerprint}', '${B.state}', '${B.seq}')
  if h[1] and h[1] ~= fp and string.gsub(h[1], ' by maintenance$', ' by window') ~= fp then
    return 'conflict', 0
  end
  if h[2] then return h[2], tonumber(h[3]) end
  local seq = redis.call('INCR', KP[6])
  ${bindLua('binding', 'fp', 'seq', 'action', 'id', 'source', 'now')}
  redis.call('ZADD', KP[7], now, key)
  redis.call('HSET', KP[1] .. id, 'seq', seq, 'key', key)
  return 'new', seq
end
`;
