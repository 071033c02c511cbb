/**
 * Bind idempotency keys to intents, all-or-nothing, in one round trip per chunk.
 *
 * A key already bound to another intent fails the whole chunk (nothing is written). A key
 * bound to the same intent reports its state, so the producer can return the existing job.
 * Bindings live `ttl` seconds (24 h by default, like the API's window) independent of whether
 * BullMQ still keeps the job.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.js';
import { defineScript } from '../store/script.js';

const claimScript = defineScript(`
local ttl, now = ARGV[1], ARGV[2]
for i = 1, #KEYS do
  local fp = redis.call('HGET', KEYS[i], 'fp')
  if fp and fp ~= ARGV[1 + 2 * i] then return {'conflict', i, fp} end
end
local states = {}
for i = 1, #KEYS do
  local state = redis.call('HGET', KEYS[i], 'state')
  if state then
    states[i] = state
  else
    redis.call('HSET', KEYS[i], 'fp', ARGV[1 + 2 * i], 'job_id', ARGV[2 + 2 * i], 'state', 'queued', 'created_at', now)
    redis.call('EXPIRE', KEYS[i], ttl)
    states[i] = 'new'
  end
end
return {'ok', states}
`);

/** `new`: just bound; `queued`: bound earlier, not finished; or the recorded outcome. */
export type ClaimState = 'new' | 'queued' | 'succeeded' | 'failed';

export interface Claim {
  key: string;
  fingerprint: string;
  jobId: string;
}

export type ClaimResult =
  | { ok: true; states: ClaimState[] }
  | { ok: false; conflict: { key: string; existing: string; requested: string } };

export async function claimKeys(
  redis: Redis,
  keys: Keys,
  ttlS: number,
  claims: readonly Claim[],
  now = Date.now(),
): Promise<ClaimResult> {
  if (claims.length === 0) return { ok: true, states: [] };
  const args: (string | number)[] = [ttlS, now];
  for (const c of claims) args.push(c.fingerprint, c.jobId);
  const reply = (await claimScript(
    redis,
    claims.map((c) => keys.idempotency(c.key)),
    args,
  )) as [string, ...unknown[]];
  if (reply[0] === 'conflict') {
    const claim = claims[Number(reply[1]) - 1];
    if (!claim) throw new Error('claim script returned an unknown index');
    return {
      ok: false,
      conflict: { key: claim.key, existing: String(reply[2]), requested: claim.fingerprint },
    };
  }
  return { ok: true, states: reply[1] as ClaimState[] };
}

/** Read-only check: the first key bound to a different intent, if any. One round trip. */
export async function findConflict(
  redis: Redis,
  keys: Keys,
  claims: readonly Claim[],
): Promise<{ key: string; existing: string; requested: string } | undefined> {
  if (claims.length === 0) return undefined;
  const pipeline = redis.pipeline();
  for (const c of claims) pipeline.hget(keys.idempotency(c.key), 'fp');
  const replies = (await pipeline.exec()) ?? [];
  for (let i = 0; i < claims.length; i++) {
    const [err, fp] = replies[i] ?? [null, null];
    if (err) throw err;
    const claim = claims[i];
    if (claim && typeof fp === 'string' && fp !== claim.fingerprint) {
      return { key: claim.key, existing: fp, requested: claim.fingerprint };
    }
  }
  return undefined;
}
