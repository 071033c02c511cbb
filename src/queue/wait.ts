/** Waiting for intents to reach a terminal state, by their bindings. */
import type { Redis } from 'ioredis';
import { isTerminal } from '../model.js';
import { readBindings, type Binding } from '../store/binding.js';
import type { Keys } from '../store/keys.js';

export interface WaitProgress {
  total: number;
  succeeded: number;
  failed: number;
  superseded: number;
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
  const pending = new Set(idempotencyKeys);
  const bindings = new Map<string, Binding | undefined>();
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const chunk = 1_000;
  for (;;) {
    const list = [...pending];
    for (let i = 0; i < list.length; i += chunk) {
      const part = list.slice(i, i + chunk);
      const read = await readBindings(redis, keys, part);
      part.forEach((k, j) => {
        const b = read[j];
        bindings.set(k, b);
        if (isTerminal(b?.state)) pending.delete(k);
      });
    }
    if (options.onProgress) {
      const progress: WaitProgress = {
        total: idempotencyKeys.length,
        succeeded: 0,
        failed: 0,
        superseded: 0,
      };
      for (const b of bindings.values()) {
        if (b && b.state !== 'queued') progress[b.state]++;
      }
      options.onProgress(progress);
    }
    if (pending.size === 0) return { bindings, done: true };
    if (Date.now() >= deadline || options.signal?.aborted) return { bindings, done: false };
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}
