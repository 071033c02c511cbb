/** Without pino-pretty (a production install), a TTY gets JSON instead of a crash. */
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';

// Only src/logger.ts (which needs nothing else from node:module) sees this mock: pino is
// CommonJS, not transformed, and keeps the real node:module.
vi.mock('node:module', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:module')>();
  return {
    createRequire: (from: string | URL) => {
      const req = real.createRequire(from);
      const resolve = (id: string) => {
        if (id === 'pino-pretty') {
          throw Object.assign(new Error("Cannot find module 'pino-pretty'"), {
            code: 'MODULE_NOT_FOUND',
          });
        }
        return req.resolve(id);
      };
      return Object.assign(req, { resolve });
    },
  };
});

const { createLogger, resolvePinoPretty } = await import('../../src/logger.js');

describe('createLogger without pino-pretty', () => {
  it('falls back to JSON on stdout when pretty is asked for', () => {
    expect(resolvePinoPretty()).toBeUndefined();
    const logger = createLogger({ level: 'silent', pretty: true });
    const stream = (logger as unknown as Record<symbol, { constructor: { name: string } }>)[
      pino.symbols.streamSym
    ];
    expect(stream?.constructor.name).toBe('SonicBoom');
  });
});
