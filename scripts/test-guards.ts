/**
 * `npm run test:guards`: mutation-checks the guard list (test/guards/guards.ts). For each entry,
 * in a temporary copy of the repository (node_modules linked, the working tree never touched):
 * check that the guard's text occurs exactly once in its file (else the list is stale), put the
 * mutation in its place, run the entry's tests, expect at least one to fail, and put the guard
 * back. Prints each entry as `killed` or `SURVIVED` with its time, then the score; exits 1 when
 * a mutation survives or an entry is stale. Entries run one after another.
 *
 *   --list         print the entries (id, file, why) and exit
 *   --only <id>    run only this entry (repeatable, or ids separated by commas)
 *   --baseline     run each entry's tests once unmutated first: they must pass (else `BROKEN`)
 *   --keep         keep the temporary copy (its logs) even when everything was killed
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleness, type Guard } from '../test/guards/guard.js';
import { GUARDS } from '../test/guards/guards.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Not copied: installed, built or produced by runs. */
const SKIP = new Set(['node_modules', '.git', 'dist', 'coverage', 'test-results', '.node24']);

interface Options {
  list: boolean;
  only: string[];
  baseline: boolean;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { list: false, only: [], baseline: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--list') options.list = true;
    else if (arg === '--baseline') options.baseline = true;
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (!value) usage('--only needs an id');
      options.only.push(...value.split(',').filter(Boolean));
    } else usage(`unknown argument ${arg}`);
  }
  return options;
}

function usage(message: string): never {
  process.stderr.write(
    `test:guards: ${message}\nusage: test:guards [--list] [--only <id>] [--baseline] [--keep]\n`,
  );
  process.exit(2);
}

/** A copy of the repository to mutate: everything but SKIP, node_modules linked. */
function makeCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdx-guards-'));
  cpSync(ROOT, dir, {
    recursive: true,
    filter: (src) => src === ROOT || !SKIP.has(relative(ROOT, src).split('/')[0] ?? ''),
  });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

const VITEST = join(
  dirname(createRequire(import.meta.url).resolve('vitest/package.json')),
  'vitest.mjs',
);

/** The vitest project a test file belongs to (a file can be in two: name the one meant). */
function projectOf(file: string): string {
  const zone = file.split('/')[1] ?? '';
  return zone === 'unit' || zone === 'integration' || zone === 'e2e' || zone === 'model'
    ? zone
    : 'integration';
}

interface RunResult {
  code: number | null;
  failed: string[];
  passed: number;
  ms: number;
  log: string;
}

interface VitestReport {
  numFailedTests?: number;
  numPassedTests?: number;
  testResults?: { assertionResults?: { status: string; fullName: string }[] }[];
}

async function runTests(dir: string, g: Guard, label: string): Promise<RunResult> {
  // Where vitest.config.ts has its JSON reporter write.
  const report = join(dir, 'test-results', 'vitest.json');
  rmSync(report, { force: true });
  const log = join(dir, 'test-results', `guard-${g.id}-${label}.log`);
  const projects = [...new Set(g.tests.map(projectOf))].flatMap((p) => ['--project', p]);
  const args = [
    VITEST,
    'run',
    ...projects,
    ...g.tests,
    ...(g.filter === undefined ? [] : ['-t', g.filter]),
  ];
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => chunks.push(c));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const ms = Date.now() - started;
  writeFileSync(log, Buffer.concat(chunks));
  let parsed: VitestReport = {};
  try {
    parsed = JSON.parse(readFileSync(report, 'utf8')) as VitestReport;
  } catch {
    // No report: vitest failed before running anything; counted by the exit code.
  }
  const failed = (parsed.testResults ?? [])
    .flatMap((f) => f.assertionResults ?? [])
    .filter((a) => a.status === 'failed')
    .map((a) => a.fullName);
  return { code, failed, passed: parsed.numPassedTests ?? 0, ms, log };
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.list) {
    for (const g of GUARDS) process.stdout.write(`${g.id}\t${g.file}\t${g.why}\n`);
    process.stdout.write(`${GUARDS.length} guards\n`);
    return;
  }
  const unknown = options.only.filter((id) => !GUARDS.some((g) => g.id === id));
  if (unknown.length > 0) usage(`no guard ${unknown.join(', ')} (see --list)`);
  const chosen =
    options.only.length === 0 ? GUARDS : GUARDS.filter((g) => options.only.includes(g.id));
  const stale = staleness(GUARDS, ROOT);

  const started = Date.now();
  const dir = makeCopy();
  process.stdout.write(`test:guards: ${chosen.length} guards, copy in ${dir}\n`);
  let killed = 0;
  let survived = 0;
  let bad = 0;
  for (const g of chosen) {
    const problem = stale.get(g.id);
    if (problem !== undefined) {
      bad++;
      process.stdout.write(`STALE    ${g.id}: ${problem}\n`);
      continue;
    }
    const path = join(dir, g.file);
    const original = readFileSync(path, 'utf8');
    if (options.baseline) {
      const base = await runTests(dir, g, 'baseline');
      if (base.code !== 0 || base.passed === 0) {
        bad++;
        process.stdout.write(
          `BROKEN   ${g.id} ${secs(base.ms)}: its tests ${base.passed === 0 ? 'ran nothing' : 'fail'} unmutated (${base.log})\n`,
        );
        continue;
      }
    }
    writeFileSync(
      path,
      original.replace(g.guard, () => g.mutation),
    );
    let result: RunResult;
    try {
      result = await runTests(dir, g, 'mutant');
    } finally {
      writeFileSync(path, original);
    }
    const ran = result.passed + result.failed.length;
    if (result.code !== 0 && ran > 0) {
      killed++;
      const by = result.failed[0] ?? 'an error outside a test';
      const more = result.failed.length > 1 ? ` (+${result.failed.length - 1})` : '';
      process.stdout.write(`killed   ${g.id} ${secs(result.ms)} by: ${by}${more}\n`);
    } else {
      survived++;
      const why = ran === 0 ? 'no test ran' : 'every test passed';
      process.stdout.write(
        `SURVIVED ${g.id} ${secs(result.ms)}: ${why} (${basename(g.file)}: ${g.why}; log ${result.log})\n`,
      );
    }
  }
  const total = Date.now() - started;
  process.stdout.write(
    `guards: ${killed} killed, ${survived} survived of ${chosen.length}` +
      (bad > 0 ? ` (${bad} stale or broken)` : '') +
      ` in ${secs(total)}\n`,
  );
  const ok = survived === 0 && bad === 0;
  if (ok && !options.keep) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`test:guards: logs kept in ${join(dir, 'test-results')}\n`);
  process.exitCode = ok ? 0 : 1;
}

await main();
