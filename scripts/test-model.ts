/**
 * `npm run test:model`: the model test of issue 17 (vitest project `model`: the random sequences
 * and the fixed cases). Vitest refuses flags it does not know, so this turns them into the
 * environment the test reads (test/model/options.ts):
 *
 *   --seed N       MODEL_SEED       replay: the same seed generates the same sequences
 *   --path P       MODEL_PATH       with --seed: replay the one (shrunk) sequence fast-check printed
 *   --runs N       MODEL_RUNS       random sequences (default 8)
 *   --steps N      MODEL_STEPS      commands per sequence, at most (default 40)
 *   --shrink-ms N  MODEL_SHRINK_MS  time spent shrinking a failing sequence (default 90000)
 *
 * With --seed or --path only the random sequences run (test/model/model.test.ts); anything
 * else on the command line goes to vitest as it is.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const FLAGS: Record<string, string> = {
  '--seed': 'MODEL_SEED',
  '--path': 'MODEL_PATH',
  '--runs': 'MODEL_RUNS',
  '--steps': 'MODEL_STEPS',
  '--shrink-ms': 'MODEL_SHRINK_MS',
};

const env: NodeJS.ProcessEnv = { ...process.env };
const rest: string[] = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i] ?? '';
  const eq = arg.indexOf('=');
  const flag = eq > 0 ? arg.slice(0, eq) : arg;
  const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
  const name = FLAGS[flag];
  if (name === undefined) {
    rest.push(arg);
    continue;
  }
  const value = inline ?? args[++i];
  if (value === undefined || value === '') {
    process.stderr.write(`test:model: ${flag} needs a value\n`);
    process.exit(2);
  }
  env[name] = value;
}

const replay =
  Boolean(env.MODEL_SEED || env.MODEL_PATH) && args.some((a) => /^--(seed|path)\b/.test(a));
const files = replay ? ['test/model/model.test.ts'] : [];
const vitest = join(
  dirname(createRequire(import.meta.url).resolve('vitest/package.json')),
  'vitest.mjs',
);
const child = spawn(process.execPath, [vitest, 'run', '--project', 'model', ...files, ...rest], {
  stdio: 'inherit',
  env,
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
