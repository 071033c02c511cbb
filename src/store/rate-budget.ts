/**
 * The API key's budget as the API itself counts it: the hash `<prefix>:rate-budget`, shared by
 * every worker. Answers tell us the window (`X-RateLimit-Limit`, `-Remaining`, `-Reset`); we
 * count the calls we start in it. Whatever else the API counted in the window is another user
 * of the key (a script, another service of the team), and we leave it room:
 *
 *   allowance per window = limit - reserve - others (the most seen in the last window, or
 *   in this one if more)
 *
 * A run takes one call of the allowance before it calls (in begin-run.ts, the same round trip
 * as its turn check), paced through the window; none left: it waits. Each recorded answer updates
 * the window (in record-outcome.ts, the same round trip as its outcome). Until an answer has
 * been seen, nothing is held back (the BullMQ limiter still applies).
 *
 * This file owns the field names and the two Lua parts; the scripts embed them.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';

/** Field names of the budget hash. */
export const RB = {
  limit: 'limit',
  /** End of the current window (ms), from `X-RateLimit-Reset`. */
  windowEnd: 'window_end',
  /** Length of a window (ms), learned from two successive resets. */
  windowMs: 'window_ms',
  /** Calls we started in the current window. */
  ours: 'ours',
  /** The most the API said was used in the current window (limit - remaining). */
  used: 'used',
  /** Calls of other users seen in the current window. */
  othersWindow: 'others_window',
  /** What the allowance leaves to others in the current window. */
  others: 'others',
} as const;

/**
 * Lua for begin-run: take one call of the allowance, or answer how long to wait.
 * Uses `KEY` (the budget hash), `NOW` (ms), `RESERVE` (a fraction of the limit) and `URGENT`
 * ('1' for a call that must not wait behind others: a breaker trip): Lua expressions the
 * embedding script defines. An urgent call is not paced and may use the reserve; it still never
 * takes more than the key's window has left for us. Ends with `return {'budget', ms}` when the
 * window is spent.
 */
export function takeCallLua(KEY: string, NOW: string, RESERVE: string, URGENT: string): string {
  return `
do
  local lim, wend, wms, ours, others = unpack(redis.call('HMGET', ${KEY}, '${RB.limit}', '${RB.windowEnd}', '${RB.windowMs}', '${RB.ours}', '${RB.others}'))
  if lim and wend then
    local now, gate = tonumber(${NOW}), true
    wend, wms = tonumber(wend), tonumber(wms or '0')
    if now >= wend then
      if wms > 0 then
        wend = wend + (math.floor((now - wend) / wms) + 1) * wms
        others = redis.call('HGET', ${KEY}, '${RB.othersWindow}') or '0'
        redis.call('HSET', ${KEY}, '${RB.windowEnd}', wend, '${RB.ours}', 0, '${RB.used}', 0,
          '${RB.others}', others, '${RB.othersWindow}', 0)
        ours = 0
      else
        gate = false
      end
    end
    if gate then
      local l = tonumber(lim)
      local urgent = ${URGENT} == '1'
      local reserve = 0
      if not urgent then reserve = math.floor(l * tonumber(${RESERVE})) end
      local allowance = l - reserve - tonumber(others or '0')
      ours = tonumber(ours or '0')
      if ours >= allowance then return {'budget', wend - now} end
      -- Paced through the window (a tenth of it ahead): answers keep coming all along, so the
      -- calls of others are seen, and there is room left for them at the end of it. Not when
      -- more of the window is left than its learned length (an answer moved its end further: a
      -- window opened at a first call, a reset rounded to seconds): pacing as if it had not
      -- begun would hold every call back, in waits of a few ms, until then; the allowance holds.
      if wms > 0 and not urgent and wend - now <= wms then
        local paced = math.ceil(allowance * (now - (wend - wms) + wms / 10) / wms)
        if ours >= paced then return {'budget', math.max(1, math.floor(wms / math.max(allowance, 1)))} end
      end
      redis.call('HINCRBY', ${KEY}, '${RB.ours}', 1)
    end
  end
end
`;
}

/**
 * Lua for record-outcome: what an answer said about the window. `LIMIT`, `REMAINING` and
 * `RESET` (ms) are Lua expressions; `LIMIT` is '' when the answer had no rate-limit headers.
 */
export function observeWindowLua(
  KEY: string,
  LIMIT: string,
  REMAINING: string,
  RESET: string,
): string {
  return `
if ${LIMIT} ~= '' then
  local l, rem, reset = tonumber(${LIMIT}), tonumber(${REMAINING}), tonumber(${RESET})
  local wend, ours, used, seen = unpack(redis.call('HMGET', ${KEY}, '${RB.windowEnd}', '${RB.ours}', '${RB.used}', '${RB.othersWindow}'))
  wend = tonumber(wend)
  if not wend or reset > wend then
    if wend then
      local step, known = reset - wend, tonumber(redis.call('HGET', ${KEY}, '${RB.windowMs}') or '0')
      if known == 0 or step < known then redis.call('HSET', ${KEY}, '${RB.windowMs}', step) end
    end
    redis.call('HSET', ${KEY}, '${RB.windowEnd}', reset, '${RB.ours}', 0, '${RB.used}', 0,
      '${RB.others}', seen or 0, '${RB.othersWindow}', 0)
    wend, ours, used, seen = reset, 0, 0, 0
  end
  if reset == wend then
    used = math.max(tonumber(used or '0'), l - rem)
    local others = math.max(0, used - tonumber(ours or '0'))
    redis.call('HSET', ${KEY}, '${RB.limit}', l, '${RB.used}', used)
    if others > tonumber(seen or '0') then
      redis.call('HSET', ${KEY}, '${RB.othersWindow}', others)
      if others > tonumber(redis.call('HGET', ${KEY}, '${RB.others}') or '0') then
        redis.call('HSET', ${KEY}, '${RB.others}', others)
      end
    end
  end
end
`;
}

export interface RateBudgetState {
  limit: number | null;
  windowEnd: number | null;
  windowMs: number | null;
  ours: number;
  used: number;
  othersWindow: number;
  others: number;
}

/** The budget as it stands (for `status`-like views and tests). */
export async function readRateBudget(redis: Redis, keys: Keys): Promise<RateBudgetState> {
  const h = await redis.hgetall(keys.rateBudget);
  const n = (k: string) => (h[k] === undefined ? null : Number(h[k]));
  return {
    limit: n(RB.limit),
    windowEnd: n(RB.windowEnd),
    windowMs: n(RB.windowMs),
    ours: n(RB.ours) ?? 0,
    used: n(RB.used) ?? 0,
    othersWindow: n(RB.othersWindow) ?? 0,
    others: n(RB.others) ?? 0,
  };
}
