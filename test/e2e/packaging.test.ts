/**
 * Packaging: the version comes from package.json (from src/ and from dist/src/), and bin falls
 * back to dist/ when a checkout lacks tsx. The production install on a terminal (npm pack,
 * `npm ci --omit=dev`, `script`) is checked by scripts/check-prod-install.sh in .ci/run.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DIST_ENTRY, SOURCE_ENTRY } from '../support/build-dist.js';
import { BIN, runCli } from '../support/cli-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  files: string[];
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sdx-packaging-'));
  dirs.push(d);
  return d;
}
function put(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

async function runNode(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('version', () => {
  it('--version prints package.json version', async () => {
    const r = await runCli(['--version'], {});
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it.each([['src/version.ts'], ['dist/src/version.ts']])(
    'is read from the package.json above %s',
    async (where) => {
      const dir = tempDir();
      put(
        join(dir, 'package.json'),
        JSON.stringify({ name: 'sendmux-deactivator', version: '9.8.7-t' }),
      );
      // A package.json of something else in between (dist/) is skipped.
      put(join(dir, 'dist', 'package.json'), JSON.stringify({ name: 'other', version: '1.0.0' }));
      put(join(dir, where), readFileSync(join(ROOT, 'src', 'version.ts'), 'utf8'));
      const mod = (await import(pathToFileURL(join(dir, where)).href)) as { VERSION: string };
      expect(mod.VERSION).toBe('9.8.7-t');
    },
  );
});

describe('bin/sendmux-deactivator.js', () => {
  /** A checkout-like layout with no node_modules: bin, src/ as given, a stub dist/ build. */
  function layout(opts: { src: boolean; dist: boolean }): string {
    const dir = tempDir();
    mkdirSync(join(dir, 'bin'));
    copyFileSync(
      join(ROOT, 'bin', 'sendmux-deactivator.js'),
      join(dir, 'bin', 'sendmux-deactivator.js'),
    );
    put(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    if (opts.src) put(join(dir, 'src', 'cli', 'main.ts'), 'export {};\n');
    if (opts.dist) {
      put(
        join(dir, 'dist', 'src', 'cli', 'main.js'),
        'export async function run(argv) { console.log(`dist ran ${argv.join(" ")}`); return 3; }\n',
      );
    }
    return join(dir, 'bin', 'sendmux-deactivator.js');
  }

  it('runs dist/ without a word where src/ is absent (image, npm package)', async () => {
    const r = await runNode([layout({ src: false, dist: true }), 'a', 'b']);
    expect(r).toEqual({ code: 3, stdout: 'dist ran a b\n', stderr: '' });
  });

  it('falls back to dist/, saying why, when src/ is present but tsx is not installed', async () => {
    const r = await runNode([layout({ src: true, dist: true }), 'x']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('dist ran x\n');
    expect(r.stderr).toMatch(/src\/ is present but tsx \(a devDependency\) is not installed/);
    expect(r.stderr).toMatch(/npm install/);
  });

  it('exits 1 with a clear message when there is neither tsx nor dist/', async () => {
    const r = await runNode([layout({ src: true, dist: false }), '--help']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /tsx .* is not installed, and there is no build in dist\/: run `npm install`/,
    );
  });
});

describe('package.json', () => {
  it('keeps tsx and pino-pretty out of the production dependencies', () => {
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.dependencies).not.toHaveProperty('pino-pretty');
    expect(pkg.devDependencies).toHaveProperty('tsx');
  });

  it('ships the license', () => {
    expect(pkg.files).toContain('LICENSE');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(
      /^MIT License\n\nCopyright \(c\) 2026 sendmux-deactivator contributors/,
    );
  });
});

describe('the e2e project', () => {
  it('runs the CLI from dist/, built by its global setup (unless SDX_E2E_FROM_SOURCE=1)', () => {
    const fromSource = !['', '0', undefined].includes(process.env.SDX_E2E_FROM_SOURCE);
    expect(BIN).toBe(fromSource ? SOURCE_ENTRY : DIST_ENTRY);
  });
});
