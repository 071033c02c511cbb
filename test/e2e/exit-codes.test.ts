/**
 * Every CLI command against the error table (errors.ts): each is run with bad input, and where
 * it applies with something that does not exist and with something its state refuses; the exit
 * code must be the table's for the error's code, and with `--json` the error envelope on stdout
 * must carry that code (the HTTP API answers the same code for the same problem).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { ERRORS, type ErrorCode } from '../../src/errors.js';
import { simAccountId } from '../../src/sim/index.js';
import { runCli } from '../support/cli-process.js';
import { dropPrefix, testConfig } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();

const config = testConfig();
const env = { REDIS_URL: config.redisUrl, QUEUE_PREFIX: config.prefix, LOG_LEVEL: 'silent' };
/** Settings no command accepts: every command that loads its settings refuses them. */
const badConfig = { ...env, LOG_LEVEL: 'loud' };

const A = simAccountId(1);
const B = simAccountId(2);
const C = simAccountId(3);
const hourFromNow = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
const windowArgs = (id: string) => [
  'window',
  'create',
  '--id',
  id,
  '--accounts',
  A,
  '--start',
  hourFromNow(24),
  '--end',
  hourFromNow(25),
];

interface Case {
  /** The command as `sendmux-deactivator <command>` names it (`batch status`). */
  command: string;
  args: readonly string[];
  env?: Record<string, string>;
  unset?: readonly string[];
  code: ErrorCode;
}

/** `--json` is added to the args of the commands that take it. */
const cases: Case[] = [
  // Bad input or configuration: exit 2.
  { command: 'worker', args: ['worker'], env: badConfig, code: 'invalid_config' },
  { command: 'serve', args: ['serve', '--port', 'eighty'], code: 'invalid_input' },
  { command: 'start', args: ['start'], unset: ['SENDMUX_API_KEY'], code: 'invalid_config' },
  { command: 'deactivate', args: ['deactivate', 'nope', '--json'], code: 'invalid_input' },
  { command: 'activate', args: ['activate', 'nope', '--json'], code: 'invalid_input' },
  { command: 'bulk', args: ['bulk', '--json'], code: 'invalid_input' },
  { command: 'batch status', args: ['batch', 'status', 'a b', '--json'], code: 'invalid_input' },
  { command: 'batch cancel', args: ['batch', 'cancel', 'a b', '--json'], code: 'invalid_input' },
  { command: 'batch undo', args: ['batch', 'undo', 'a b', '--json'], code: 'invalid_input' },
  {
    command: 'batch list',
    args: ['batch', 'list', '--limit', '0', '--json'],
    code: 'invalid_input',
  },
  {
    command: 'batch report',
    args: ['batch', 'report', 'x', '--format', 'xml'],
    code: 'invalid_input',
  },
  { command: 'status', args: ['status', 'nope', '--json'], code: 'invalid_input' },
  { command: 'holds', args: ['holds', 'nope', '--json'], code: 'invalid_input' },
  {
    command: 'breaker status',
    args: ['breaker', 'status', 'nope', '--json'],
    code: 'invalid_input',
  },
  { command: 'breaker trip', args: ['breaker', 'trip', 'nope', '--json'], code: 'invalid_input' },
  { command: 'breaker reset', args: ['breaker', 'reset', 'nope', '--json'], code: 'invalid_input' },
  {
    command: 'breaker backtest',
    args: ['breaker', 'backtest', '--from', 'file', '--json'],
    code: 'invalid_input',
  },
  {
    command: 'breaker mode',
    args: ['breaker', 'mode', 'dprov_x', 'pause', '--json'],
    code: 'invalid_input',
  },
  {
    command: 'signal',
    args: ['signal', A, 'opened', '--id', 's1', '--json'],
    code: 'invalid_input',
  },
  {
    command: 'window create',
    args: ['window', 'create', '--accounts', A, '--json'],
    code: 'invalid_input',
  },
  {
    command: 'window list',
    args: ['window', 'list', '--json'],
    env: badConfig,
    code: 'invalid_config',
  },
  {
    command: 'window show',
    args: ['window', 'show', 'w1', '--json'],
    env: badConfig,
    code: 'invalid_config',
  },
  {
    command: 'window cancel',
    args: ['window', 'cancel', 'w1', '--json'],
    env: badConfig,
    code: 'invalid_config',
  },
  {
    command: 'window delete',
    args: ['window', 'delete', 'w1', '--json'],
    env: badConfig,
    code: 'invalid_config',
  },
  {
    command: 'window extend',
    args: ['window', 'extend', 'taken', '--end', 'soon', '--json'],
    code: 'invalid_input',
  },
  { command: 'events', args: ['events', '--type', 'nope', '--json'], code: 'invalid_input' },
  { command: 'sim', args: ['sim', '--accounts', 'many'], code: 'invalid_input' },
  { command: 'demo', args: ['demo', '--windows', '--accounts', '2'], code: 'invalid_input' },

  // Not found: exit 4.
  { command: 'batch status', args: ['batch', 'status', 'nope', '--json'], code: 'not_found' },
  { command: 'batch cancel', args: ['batch', 'cancel', 'nope', '--json'], code: 'not_found' },
  { command: 'batch undo', args: ['batch', 'undo', 'nope', '--json'], code: 'not_found' },
  { command: 'batch report', args: ['batch', 'report', 'nope'], code: 'not_found' },
  { command: 'status', args: ['status', C, '--json'], code: 'not_found' },
  { command: 'window show', args: ['window', 'show', 'nope', '--json'], code: 'not_found' },
  { command: 'window cancel', args: ['window', 'cancel', 'nope', '--json'], code: 'not_found' },
  { command: 'window delete', args: ['window', 'delete', 'nope', '--json'], code: 'not_found' },
  {
    command: 'window extend',
    args: ['window', 'extend', 'nope', '--end', hourFromNow(30), '--json'],
    code: 'not_found',
  },

  // Refused by state: exit 1 (set up in beforeAll).
  { command: 'breaker reset', args: ['breaker', 'reset', B, '--json'], code: 'state_conflict' },
  { command: 'breaker trip', args: ['breaker', 'trip', A, '--json'], code: 'state_conflict' },
  {
    command: 'activate',
    args: ['activate', A, '--key', 'exit-codes-k', '--json'],
    code: 'idempotency_key_conflict',
  },
  {
    command: 'bulk',
    args: ['bulk', '--ids', C, '--batch-id', 'on1', '--include-shared', '--json'],
    code: 'state_conflict',
  },
  { command: 'batch undo', args: ['batch', 'undo', 'on1', '--json'], code: 'state_conflict' },
  { command: 'window create', args: [...windowArgs('taken'), '--json'], code: 'state_conflict' },
  {
    command: 'window extend',
    args: ['window', 'extend', 'gone', '--end', hourFromNow(30), '--json'],
    code: 'state_conflict',
  },
];

async function mustRun(args: readonly string[]): Promise<void> {
  const r = await runCli(args, env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
}

beforeAll(async () => {
  await Promise.all([
    mustRun(['breaker', 'trip', A, '--reason', 'exit codes']),
    mustRun(['deactivate', A, '--key', 'exit-codes-k']),
    mustRun(['bulk', '--action', 'activate', '--ids', C, '--batch-id', 'on1', '--include-shared']),
    mustRun(windowArgs('taken')),
    mustRun(windowArgs('gone')),
  ]);
  await mustRun(['window', 'cancel', 'gone']);
}, 60_000);

afterAll(async () => {
  await dropPrefix(config.prefix);
});

/** Every command and subcommand a user can run (`batch status`, `worker`), from the program. */
function leafCommands(): string[] {
  const out: string[] = [];
  for (const c of buildProgram().commands) {
    if (c.commands.length === 0) out.push(c.name());
    for (const sub of c.commands) out.push(`${c.name()} ${sub.name()}`);
  }
  return out;
}

describe('every CLI command against the error table', () => {
  it('has a bad-input case for every command, and no case for a command that does not exist', () => {
    const commands = leafCommands();
    const withBadInput = cases.filter((c) => ERRORS[c.code].exit === 2).map((c) => c.command);
    expect([...new Set(withBadInput)].sort()).toEqual([...commands].sort());
  });

  it('exits with the code of the table, and --json prints the error envelope with the code', async () => {
    const results = await inBatches(cases, 4, (c) => runCli(c.args, c.env ?? env, c.unset ?? []));
    const seen = results.map((r, i) => {
      const c = cases[i] as Case;
      const json = c.args.includes('--json') ? envelope(r.stdout) : undefined;
      return {
        run: c.args.join(' '),
        exit: r.code,
        // Without --json only the exit code and stderr tell.
        code: c.args.includes('--json')
          ? (json?.error.code ?? `no envelope in ${r.stdout}`)
          : c.code,
        stderr: r.stderr.trim() === '' ? 'nothing on stderr' : 'says why',
      };
    });
    expect(seen).toEqual(
      cases.map((c) => ({
        run: c.args.join(' '),
        exit: ERRORS[c.code].exit,
        code: c.code,
        stderr: 'says why',
      })),
    );
  }, 180_000);
});

function envelope(stdout: string): { error: { code: string; message: string } } | undefined {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  try {
    const parsed = JSON.parse(last) as { error?: { code: string; message: string } };
    return parsed.error ? (parsed as { error: { code: string; message: string } }) : undefined;
  } catch {
    return undefined;
  }
}

async function inBatches<T, R>(items: readonly T[], size: number, run: (t: T) => Promise<R>) {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  }
  return out;
}
