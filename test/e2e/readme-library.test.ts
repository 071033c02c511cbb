/**
 * The README's library example cannot rot: its ```ts block (section "Library") is written to a
 * file inside the package (so `import ... from 'sendmux-deactivator'` resolves to the package
 * itself, the build the e2e project makes), type-checked with tsc against the package's
 * declarations, and run with tsx as a child process against real Redis (a test prefix), the
 * simulator and a real worker, with the example's account ids replaced by the simulator's.
 * Then what it promises is checked: the manual deactivation kept its `manual` hold, the trip
 * its `breaker` hold, both accounts are off, and the consumer saw their events.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { simAccountId } from '../../src/sim/index.js';
import { readHolds } from '../../src/store/holds.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = join(ROOT, 'test-results', 'readme-example');
const A = simAccountId(1);
const B = simAccountId(2);

/** The ```ts block of the README's "Library" section. */
export function libraryExample(readme: string): string {
  const section = readme.slice(readme.indexOf('\n## Library\n'));
  const body = section.slice(0, section.indexOf('\n## ', 1));
  const match = /```ts\n([\s\S]*?)```/.exec(body);
  if (!match?.[1]) throw new Error('README "Library" has no ```ts block');
  return match[1];
}

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
  rmSync(DIR, { recursive: true, force: true });
});

describe('the README library example', () => {
  it('type-checks against the package and runs: holds kept, accounts off, events consumed', async () => {
    const code = libraryExample(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(code).toMatch(/from 'sendmux-deactivator'/);
    expect(code).toContain("'dprov_abc'");
    expect(code).toContain("'dprov_def'");
    let example = code.replaceAll("'dprov_abc'", `'${A}'`).replaceAll("'dprov_def'", `'${B}'`);
    // Without the build (SDX_E2E_FROM_SOURCE=1), the sources stand in for the package.
    const fromDist = inject('cliEntry') !== undefined;
    if (!fromDist) {
      example = example.replace(`'sendmux-deactivator'`, `'${join(ROOT, 'src/index.ts')}'`);
    }
    mkdirSync(DIR, { recursive: true });
    const file = join(DIR, 'example.mts');
    writeFileSync(file, example);

    if (fromDist) {
      const tsc = join(ROOT, 'node_modules/.bin/tsc');
      const flags = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext'];
      const args = [...flags, '--ignoreConfig', '--target', 'es2022', '--types', 'node', file];
      await run(tsc, args, { cwd: ROOT }).catch((err: unknown) => {
        const out = (err as { stdout?: string }).stdout ?? (err as Error).message;
        throw new Error(`the README example does not type-check:\n${out}`);
      });
    }

    p = await startPipeline({ workers: 1, sim: { accounts: 5 } });
    const env = {
      ...process.env,
      REDIS_URL: p.config.redisUrl,
      QUEUE_PREFIX: p.config.prefix,
      SENDMUX_BASE_URL: p.sim.url,
      SENDMUX_API_KEY: 'smx_root_sim_key',
      SENDMUX_RATE_LIMIT: '0',
      LOG_LEVEL: 'silent',
    };
    const { stdout } = await run(join(ROOT, 'node_modules/.bin/tsx'), [file], {
      env,
      cwd: ROOT,
      timeout: 50_000,
    });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(`${A} succeeded inactive`);
    expect(lines[1]).toBe('true succeeded');
    expect(lines).toContain(`action.succeeded ${A}`);
    expect(lines).toContain(`breaker.tripped ${B}`);
    expect(p.sim.account(A)?.status).toBe('inactive');
    expect(p.sim.account(B)?.status).toBe('inactive');
    const manual = await readHolds(p.redis, p.keys, A);
    expect(manual.holds.map((h) => h.source)).toEqual(['manual']);
    const tripped = await readHolds(p.redis, p.keys, B);
    expect(tripped.holds.map((h) => h.source)).toEqual(['breaker']);
    // The group was created before acting and acknowledged what it read: nothing pending.
    const [pending] = (await p.redis.xpending(p.keys.events, 'alerts')) as [number];
    expect(pending).toBe(0);
  });
});
