/** Spawning the real CLI as a child process, for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { inject } from 'vitest';
import { SOURCE_ENTRY } from './build-dist.js';

/**
 * The script run with `node` as the CLI: in the e2e project the build, dist/src/cli/main.js,
 * built fresh by its global setup (build-dist.ts); elsewhere, or with SDX_E2E_FROM_SOURCE=1,
 * bin/sendmux-deactivator.js, the entry npm installs, which runs the sources through tsx.
 */
export const BIN = inject('cliEntry') ?? SOURCE_ENTRY;

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

export function spawnCli(args: readonly string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = once(child, 'exit').then(
    ([code, signal]) => (code ?? String(signal)) as number | string,
  );
  return {
    child,
    output: () => out,
    exited,
    async waitForOutput(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (child.exitCode !== null)
          throw new Error(`process exited before printing ${pattern}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/**
 * Run the CLI to completion; returns exit code and output. `unset` names variables to drop;
 * `stdin` is written to its standard input (else it has none); `instead` runs another command.
 */
export async function runCli(
  args: readonly string[],
  env: Record<string, string>,
  unset: readonly string[] = [],
  stdin?: string,
  /** Run this instead of the CLI (e.g. `script`, for a pseudo-terminal); `args` then unused. */
  instead?: { command: string; args: readonly string[] },
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const childEnv = Object.fromEntries(
    Object.entries({ ...process.env, ...env }).filter(([name]) => !unset.includes(name)),
  );
  const child = spawn(instead?.command ?? process.execPath, instead?.args ?? [BIN, ...args], {
    env: childEnv,
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (stdin !== undefined) child.stdin?.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  return { code: code ?? String(signal), stdout, stderr };
}

/** SIGKILL the processes still running (emptying the list) and wait for each to exit. */
export async function killAll(children: CliProcess[]): Promise<void> {
  for (const c of children.splice(0)) {
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await c.exited;
  }
}
