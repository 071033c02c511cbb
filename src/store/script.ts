/**
 * A Lua script run by SHA, loaded on first use (and again after a Redis restart).
 *
 * Every key a script touches is declared in KEYS, never built inside Lua: a Redis Cluster
 * client routes a script by its first key, and during a slot migration the node answers
 * `-ASK` / `-TRYAGAIN` from the declared keys before the script runs; a key the script makes
 * up itself fails half-way instead ("non local key"), after some writes. With
 * `SDX_CHECK_SCRIPT_KEYS=1` (the test suites set it) every `redis.call` / `redis.pcall` of
 * every script checks its key against KEYS and raises `undeclared key ...` otherwise.
 */
import { createHash } from 'node:crypto';
import type { RedisClient as Redis } from '../redis/connect.js';

export type Script = (
  redis: Redis,
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
) => Promise<unknown>;

/**
 * The checked variant's prelude: `sdxCall` / `sdxPcall` refuse a key not in KEYS. The key of a
 * command is its first argument, except XGROUP / XINFO (the second) and XREAD / XREADGROUP
 * (after STREAMS); DEL, UNLINK, EXISTS, MGET and TOUCH take keys only.
 */
const CHECK_PRELUDE = `
local sdxDeclared = {}
for _, k in ipairs(KEYS) do sdxDeclared[k] = true end
local sdxAllKeys = { DEL = true, UNLINK = true, EXISTS = true, MGET = true, TOUCH = true }
local function sdxCheck(cmd, a)
  local c = string.upper(cmd)
  local from, to = 1, 1
  if sdxAllKeys[c] then to = #a
  elseif c == 'XGROUP' or c == 'XINFO' then from, to = 2, 2
  elseif c == 'XREAD' or c == 'XREADGROUP' then
    from, to = 0, 0
    for i, v in ipairs(a) do
      if type(v) == 'string' and string.upper(v) == 'STREAMS' then from, to = i + 1, i + 1 end
    end
  elseif c == 'TIME' then from, to = 0, -1 end
  for i = from, to do
    local k = a[i]
    if k ~= nil and not sdxDeclared[tostring(k)] then
      error('undeclared key ' .. tostring(k) .. ' in ' .. c)
    end
  end
end
local function sdxCall(cmd, ...)
  sdxCheck(cmd, {...})
  return redis.call(cmd, ...)
end
local function sdxPcall(cmd, ...)
  sdxCheck(cmd, {...})
  return redis.pcall(cmd, ...)
end
`;

/** The script with every call checked against KEYS ({@link CHECK_PRELUDE}). */
export function checkedLua(lua: string): string {
  return (
    CHECK_PRELUDE +
    lua.replace(/redis\.call\(/g, 'sdxCall(').replace(/redis\.pcall\(/g, 'sdxPcall(')
  );
}

let checking: boolean | undefined;
function checkKeys(): boolean {
  return (checking ??= process.env.SDX_CHECK_SCRIPT_KEYS === '1');
}

export function defineScript(source: string): Script {
  let compiled: { lua: string; sha: string } | undefined;
  return async (redis, keys, args) => {
    // A Cluster client sends a script with no key to any node.
    if (keys.length === 0) throw new Error('a script needs its keys in KEYS (none given)');
    if (!compiled) {
      const lua = checkKeys() ? checkedLua(source) : source;
      compiled = { lua, sha: createHash('sha1').update(lua).digest('hex') };
    }
    const { lua, sha } = compiled;
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return redis.eval(lua, keys.length, ...keys, ...args);
      }
      throw err;
    }
  };
}
