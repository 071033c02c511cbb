/**
 * Record reads of the API (the breaker's account listing, an operator's or a window's read)
 * into the accounts' status hashes, forward-only by the answer's `updated_at` (known-state.ts):
 * the freshest knowledge a hold's base is taken from when nothing of ours is pending. One
 * script per call, however many accounts.
 */
import type { AccountState } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { seenOf } from './hold-record.js';
import type { Keys } from './keys.js';
import { knownPrefixes, knownStateLua } from './known-state.js';
import { defineScript } from './script.js';

// KEYS: the accounts' status keys (the only keys sdxObserve touches). ARGV: known-state prefixes
// JSON, items JSON ([[id, part, updated ms], ...]).
const observeScript = defineScript(`
${knownStateLua}
local KP = cjson.decode(ARGV[1])
for _, t in ipairs(cjson.decode(ARGV[2])) do sdxObserve(KP, t[1], t[2], t[3]) end
return 1
`);

/** An account as the API listed or returned it. */
export interface ObservedAccount extends AccountState {
  id: string;
}

/** Record what the API said of these accounts (newer answers only). */
export async function observeAccounts(
  redis: Redis,
  keys: Keys,
  accounts: readonly ObservedAccount[],
): Promise<void> {
  if (accounts.length === 0) return;
  const items = accounts.map((a) => {
    const seen = seenOf(a);
    return [a.id, seen.part, seen.updatedMs];
  });
  await observeScript(
    redis,
    [...new Set(accounts.map((a) => keys.status(a.id)))],
    [knownPrefixes(keys), JSON.stringify(items)],
  );
}
