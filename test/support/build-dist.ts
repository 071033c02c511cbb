/**
 * Global setup of the e2e project: the CLI the tests spawn is the built one, `node
 * dist/src/cli/main.js` (about half the start-up of the sources through tsx). It is built here
 * by `npm run build` into an emptied dist/, unless dist/ holds the build of exactly these
 * sources: a hash of every file under src/ and scripts/ (names and contents), package.json and
 * the tsconfig files, written to dist/ after a build, must match (a build takes 15-80 s on the
 * shared 2-core machine; the hash, milliseconds). So a stale dist/ is never tested; a build that
 * fails (a type error included) fails the run. The entry is provided as `cliEntry` (read by
 * cli-process.ts).
 *
 * SDX_E2E_FROM_SOURCE=1 skips the build and spawns bin/sendmux-deactivator.js, which runs the
 * TypeScript sources through tsx, as before.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** What the build is made from (scripts/: what a build step may run). */
const INPUTS = ['src', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
const DIST = join(ROOT, 'dist');
/** The hash of the inputs dist/ was built from. */
const STAMP = join(DIST, '.e2e-inputs-sha256');

/** A hash of the inputs: every file's path and contents, in a fixed order. */
export function inputsHash(): string {
  const hash = createHash('sha256');
  const walk = (rel: string, isDir: boolean): void => {
    if (!isDir) {
      hash
        .update(`${rel}\0`)
        .update(readFileSync(join(ROOT, rel)))
        .update('\0');
      return;
    }
    const entries = readdirSync(join(ROOT, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) walk(join(rel, e.name), e.isDirectory());
  };
  for (const input of INPUTS) {
    if (existsSync(join(ROOT, input))) walk(input, statSync(join(ROOT, input)).isDirectory());
  }
  return hash.digest('hex');
}

async function build(): Promise<string> {
  const hash = inputsHash();
  if (existsSync(DIST_ENTRY) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash) {
    process.stdout.write(`e2e runs the CLI from dist/ (up to date: built from these sources)\n`);
    return DIST_ENTRY;
  }
  const started = Date.now();
  rmSync(DIST, { recursive: true, force: true });
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
  writeFileSync(STAMP, hash);
  const s = ((Date.now() - started) / 1_000).toFixed(1);
  process.stdout.write(`e2e runs the CLI from dist/ (npm run build: ${s} s)\n`);
  return DIST_ENTRY;
}
