/**
 * Global setup of the e2e project: the CLI the tests spawn is the built one, `node
 * dist/src/cli/main.js` (about half the start-up of the sources through tsx). It is built here,
 * by `npm run build`, on every run, so a stale dist/ is never tested; a build that fails (a type
 * error included) fails the run. The entry is provided as `cliEntry` (read by cli-process.ts).
 *
 * SDX_E2E_FROM_SOURCE=1 skips the build and spawns bin/sendmux-deactivator.js, which runs the
 * TypeScript sources through tsx, as before.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The script the e2e tests run with `node` as the CLI (unset in other projects). */
    cliEntry: string | undefined;
  }
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SOURCE_ENTRY = fileURLToPath(
  new URL('../../bin/sendmux-deactivator.js', import.meta.url),
);
export const DIST_ENTRY = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

// Projects load this file as separate module instances: build once per process.
const BUILT: unique symbol = Symbol.for('sendmux-deactivator.e2e-dist');
const holder = globalThis as typeof globalThis & { [BUILT]?: Promise<string> };

export default async function setup(project: TestProject): Promise<void> {
  holder[BUILT] ??= fromSource() ? Promise.resolve(SOURCE_ENTRY) : build();
  project.provide('cliEntry', await holder[BUILT]);
}

function fromSource(): boolean {
  const v = process.env.SDX_E2E_FROM_SOURCE;
  return v !== undefined && v !== '' && v !== '0';
}

async function build(): Promise<string> {
  const started = Date.now();
  try {
    await promisify(execFile)('npm', ['run', 'build', '--silent'], { cwd: ROOT });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(
      'e2e: `npm run build` failed; the e2e tests run the built CLI ' +
        `(SDX_E2E_FROM_SOURCE=1 runs the sources): ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`,
      { cause: err },
    );
  }
  const s = ((Date.now() - started) / 1_000).toFixed(1);
  process.stdout.write(`e2e runs the CLI from dist/ (npm run build: ${s} s)\n`);
  return DIST_ENTRY;
}
