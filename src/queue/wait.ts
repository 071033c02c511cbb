/** Waiting for intents to reach a terminal state, by their bindings. */
import { isTerminal } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { readBindings, readStates, type Binding } from '../store/binding.js';
import type { Keys } from '../store/keys.js';

export interface WaitProgress {
  total: number;
  succeeded: number;
  failed: number;
  superseded: number;
  cancelled: number;
}

export interface WaitOptions {
  /** @defaultValue 250 */
  pollMs?: number;
  /** Give up after this long (resolves with what is known). @defaultValue no limit */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?(progress: WaitProgress): void;
}

export interface WaitResult {
  /** The last binding read for each key (`undefined`: no binding, e.g. expired or never made). */
  bindings: Map<string, Binding | undefined>;
  /** Every key reached a terminal state. */
  done: boolean;
}

/** Resolve once every key is terminal (or on timeout / abort). */
export async function waitForIntents(
  redis: Redis,
  keys: Keys,
  idempotencyKeys: readonly string[],
  options: WaitOptions = {},
): Promise<WaitResult> {
  // While waiting, only states are read (one field per key, and only of the keys not yet
  // terminal); the whole bindings are read once, at the end.
  const pending = new Set(idempotencyKeys);
  const progress: WaitProgress = {
    total: idempotencyKeys.length,
    succeeded: 0,
    failed: 0,
    superseded: 0,
    cancelled: 0,
  };
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const chunk = 1_000;
  for (;;) {
    const list = [...pending];
    for (let i = 0; i < list.length; i += chunk) {
      const part = list.slice(i, i + chunk);
      const states = await readStates(redis, keys, part);
      part.forEach((k, j) => {
        const state = states[j];
        if (!isTerminal(state)) return;
        pending.delete(k);
        progress[state]++;
      });
    }
    options.onProgress?.({ ...progress });
    const done = pending.size === 0;
    if (done || Date.now() >= deadline || options.signal?.aborted) {
      const bindings = new Map<string, Binding | undefined>();
      for (let i = 0; i < idempotencyKeys.length; i += chunk) {
        const part = idempotencyKeys.slice(i, i + chunk);
        const read = await readBindings(redis, keys, part);
        part.forEach((k, j) => bindings.set(k, read[j]));
      }
      return { bindings, done };
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}
