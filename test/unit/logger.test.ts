/** JSON lines carry pid, hostname and service; pretty output follows NO_COLOR. */
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import pinoPretty from 'pino-pretty';
import { describe, expect, it } from 'vitest';
import { createLogger, prettyOptions, resolvePinoPretty } from '../../src/logger.js';

function sink() {
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw += chunk.toString();
      cb();
    },
  });
  return { stream, raw: () => raw };
}

describe('createLogger (JSON)', () => {
  it('keeps pid and hostname next to service on every line', () => {
    const out = sink();
    const logger = createLogger({ level: 'info', destination: out.stream });
    logger.info({ job_id: 'j1' }, 'hello');
    logger.child({ account_id: 'dprov_x' }).warn('child line');
    const lines = out
      .raw()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatchObject({
        pid: process.pid,
        hostname: hostname(),
        service: 'sendmux-deactivator',
      });
      expect(typeof line.time).toBe('string');
    }
    expect(lines[0]).toMatchObject({ msg: 'hello', job_id: 'j1', level: 30 });
    expect(lines[1]).toMatchObject({ msg: 'child line', account_id: 'dprov_x' });
  });

  it('still redacts credentials', () => {
    const out = sink();
    createLogger({ level: 'info', destination: out.stream }).info({ apiKey: 'smx_root_s' }, 'x');
    expect(out.raw()).not.toContain('smx_root_s');
    expect(out.raw()).toContain('[redacted]');
  });
});

describe('pretty output', () => {
  it('resolves pino-pretty to an absolute path when installed, undefined when not', () => {
    expect(resolvePinoPretty()).toMatch(/pino-pretty/);
    expect(
      resolvePinoPretty(() => {
        throw Object.assign(new Error("Cannot find module 'pino-pretty'"), {
          code: 'MODULE_NOT_FOUND',
        });
      }),
    ).toBeUndefined();
  });

  it('uses the pino-pretty transport when asked and installed', async () => {
    const logger = createLogger({ level: 'info', pretty: true });
    const stream = (
      logger as unknown as Record<symbol, { end(): void; constructor: { name: string } }>
    )[pino.symbols.streamSym];
    expect(stream?.constructor.name).toBe('ThreadStream');
    stream?.end();
    await new Promise((r) => setTimeout(r, 50));
  });

  it.each([
    [{}, true],
    [{ NO_COLOR: '' }, true],
    [{ NO_COLOR: '1' }, false],
    [{ NO_COLOR: 'true' }, false],
  ])('colorize with env %j is %s', (env, colorize) => {
    expect(prettyOptions(env).colorize).toBe(colorize);
  });

  it('prints ANSI colours by default and none with NO_COLOR', () => {
    const render = (env: NodeJS.ProcessEnv) => {
      const out = sink();
      const pretty = pinoPretty({ ...prettyOptions(env), destination: out.stream, sync: true });
      pretty.write(
        `${JSON.stringify({ level: 40, time: Date.now(), pid: 1, hostname: 'h', service: 'sendmux-deactivator', msg: 'careful' })}\n`,
      );
      return out.raw();
    };
    const coloured = render({});
    const plain = render({ NO_COLOR: '1' });
    expect(coloured).toContain('\u001b[');
    expect(plain).not.toContain('\u001b[');
    expect(plain).toContain('WARN');
    expect(plain).toContain('careful');
    expect(plain).not.toContain('sendmux-deactivator'); // `service` is left out on a terminal
  });
});
