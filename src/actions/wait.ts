/** Waiting for intents to reach a terminal state, by their idempotency records. */
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.js';

export type IntentState = 'queued' | 'succeeded' | 'failed' | 'unknown';

/** Current state of each key's intent (`unknown` when no record exists). One round trip. */
export async function readIntentStates(
  redis: Redis,
  keys: Keys,
  idempotencyKeys: readonly string[],
): Promise<IntentState[]> {
  if (idempotencyKeys.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const k of idempotencyKeys) pipeline.hget(keys.idempotency(k), 'state');
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([err, state]) => {
    if (err) throw err;
    return state === 'queued' || state === 'succeeded' || state === 'failed' ? state : 'unknown';
  });
}

export interface WaitProgress {
  total: number;
  succeeded: number;
  failed: number;
}

export interface WaitOptions {
  /** @defaultValue 250 */
  pollMs?: number;
  /** Give up after this long (resolves with what is known). @defaultValue no limit */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?(progress: WaitProgress): void;
}

/** Resolve once every key is `succeeded` or `failed` (or on timeout / abort). */
export async function waitForIntents(
  redis: Redis,
  keys: Keys,
  idempotencyKeys: readonly string[],
  options: WaitOptions = {},
): Promise<{ states: Map<string, IntentState>; done: boolean }> {
  const pending = new Set(idempotencyKeys);
  const states = new Map<string, IntentState>();
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const chunk = 1_000;
  for (;;) {
    const list = [...pending];
    for (let i = 0; i < list.length; i += chunk) {
      const part = list.slice(i, i + chunk);
      const got = await readIntentStates(redis, keys, part);
      part.forEach((k, j) => {
        const s = got[j] ?? 'unknown';
        states.set(k, s);
        if (s === 'succeeded' || s === 'failed') pending.delete(k);
      });
    }
    if (options.onProgress) {
      let succeeded = 0;
      let failed = 0;
      for (const s of states.values()) {
        if (s === 'succeeded') succeeded++;
        else if (s === 'failed') failed++;
      }
      options.onProgress({ total: idempotencyKeys.length, succeeded, failed });
    }
    if (pending.size === 0) return { states, done: true };
    if (Date.now() >= deadline || options.signal?.aborted) return { states, done: false };
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}
