/**
 * Recorded accounts a page at a time, most recently changed first, optionally only those whose
 * id contains a text (GET /v1/accounts?q=&cursor=&limit=, the status page's search). Served
 * from the status index (a sorted set scored by the time of the account's last outcome), never
 * by loading it: one script walks it from the cursor by rank, a chunk at a time, and stops at a
 * full page or after `budget` entries examined, answering where it stopped. The cursor is the
 * last entry examined (`<score>:<account>`); the next call starts just after it (ZCOUNT of the
 * higher scores, then skipping the equal-score entries at or after it in the index's reverse
 * order), so an account changed meanwhile moves to the front and the walk neither repeats nor
 * loops. At 100,000 accounts a search examines them all in a few calls of a few ms each.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

/** Entries one script call examines at most (Redis runs nothing else meanwhile). */
export const SEARCH_STEP = 20_000;
/** Entries one request examines at most before it answers with what it found and a cursor. */
export const SEARCH_BUDGET = 250_000;

// KEYS: status index. ARGV: text ('' = all), page size, budget, cursor score ('' = from the
// start), cursor account. Returns {ids, last score, last account, more (1/0)}.
const pageScript = defineScript(`
local q, limit, budget, cs, cm = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local rank, csn = 0, nil
if cs ~= '' then
  rank = redis.call('ZCOUNT', KEYS[1], '(' .. cs, '+inf')
  csn = tonumber(cs)
end
local out, examined, lastS, lastM = {}, 0, '', ''
while true do
  local chunk = redis.call('ZREVRANGE', KEYS[1], rank, rank + 499, 'WITHSCORES')
  if #chunk == 0 then return {out, '', '', 0} end
  rank = rank + #chunk / 2
  for i = 1, #chunk, 2 do
    local m, s = chunk[i], chunk[i + 1]
    if not (csn and tonumber(s) == csn and m >= cm) then
      examined = examined + 1
      lastS, lastM = s, m
      if q == '' or string.find(m, q, 1, true) then out[#out + 1] = m end
      if #out >= limit or examined >= budget then
        local more = i + 2 <= #chunk or redis.call('ZCARD', KEYS[1]) > rank
        return {out, lastS, lastM, more and 1 or 0}
      end
    end
  end
end
`);

/** A cursor: where the previous page stopped. */
export const CURSOR_RULE = /^\d{1,16}(\.\d{1,6})?:dprov_[A-Za-z0-9_-]{1,128}$/;
export const CURSOR_RULE_TEXT = 'must be the next_cursor of a previous answer';

export interface StatusPage {
  ids: string[];
  /** Where to go on (null: the index has no more). */
  nextCursor: string | null;
}

/**
 * Up to `limit` recorded accounts after `cursor` (null: from the newest), only those whose id
 * contains `q` when it is not empty. Fewer than `limit` with a cursor: the budget ran out
 * before the page was full (ask again with the cursor).
 */
export async function pageStatuses(
  redis: Redis,
  keys: Keys,
  opts: { q?: string; cursor?: string | null; limit: number; budget?: number; step?: number },
): Promise<StatusPage> {
  const ids: string[] = [];
  let cursor = opts.cursor ?? null;
  let left = opts.budget ?? SEARCH_BUDGET;
  const step = opts.step ?? SEARCH_STEP;
  while (ids.length < opts.limit && left > 0) {
    const cut = cursor ? cursor.indexOf(':') : -1;
    const [found, score, account, more] = (await pageScript(
      redis,
      [keys.statusIndex],
      [
        opts.q ?? '',
        opts.limit - ids.length,
        Math.min(step, left),
        cursor ? cursor.slice(0, cut) : '',
        cursor ? cursor.slice(cut + 1) : '',
      ],
    )) as [string[], string, string, number];
    ids.push(...found);
    if (!more || !score) return { ids, nextCursor: null };
    cursor = `${score}:${account}`;
    left -= step;
  }
  return { ids, nextCursor: cursor };
}
