/**
 * The model test's budget and replay settings, from the environment (the wrapper
 * scripts/test-model.ts turns `--seed N --runs N --steps N --path P` into these): vitest
 * refuses flags it does not know.
 */

function int(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`${name}: must be an integer >= ${min}, got "${raw}"`);
  }
  return n;
}

export interface ModelOptions {
  /** fast-check's seed: the same seed generates the same sequences. */
  seed: number;
  /** Random sequences per run. */
  runs: number;
  /** Commands per sequence (at most). */
  steps: number;
  /** fast-check's counterexample path (with `seed`): replays one shrunk sequence. */
  path: string | undefined;
  /** Time spent shrinking a failing sequence before the smallest one found is reported. */
  shrinkMs: number;
  /** Longest wait for the queue to drain at the end of a sequence. */
  drainMs: number;
}

export function modelOptions(): ModelOptions {
  const seedRaw = process.env.MODEL_SEED;
  const seed =
    seedRaw === undefined || seedRaw === ''
      ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
      : int('MODEL_SEED', 0, -0x80000000);
  return {
    seed,
    runs: int('MODEL_RUNS', 8, 1),
    steps: int('MODEL_STEPS', 40, 1),
    path: process.env.MODEL_PATH || undefined,
    shrinkMs: int('MODEL_SHRINK_MS', 90_000, 0),
    drainMs: int('MODEL_DRAIN_MS', 60_000, 1_000),
  };
}
