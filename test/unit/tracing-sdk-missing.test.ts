/**
 * Tracing asked for without the OpenTelemetry SDK installed (the Docker image built without
 * `--build-arg TRACING=1`) says so plainly: src/telemetry/tracing.ts sdkMissingMessage, fed a
 * real "module not found" for the SDK (resolved from a directory without it).
 */
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sdkMissingMessage, TRACING_SDK } from '../../src/telemetry/tracing.js';

function notFoundError(): unknown {
  try {
    createRequire(join(tmpdir(), 'nowhere', 'x.js'))(TRACING_SDK);
  } catch (err) {
    return err;
  }
  throw new Error(`${TRACING_SDK} resolved from ${tmpdir()}`);
}

describe('tracing without its SDK', () => {
  it('names the package, the build argument and that the process runs on', () => {
    const message = sdkMissingMessage(notFoundError());
    expect(message).toMatch(/tracing is asked for .* @opentelemetry\/sdk-node is not installed/);
    expect(message).toContain('--build-arg TRACING=1');
    expect(message).toMatch(/running without tracing$/);
  });

  it('leaves any other failure to the generic message', () => {
    expect(sdkMissingMessage(new Error('exporter: bad endpoint'))).toBeUndefined();
    const other = Object.assign(new Error("Cannot find module 'left-pad'"), {
      code: 'MODULE_NOT_FOUND',
    });
    expect(sdkMissingMessage(other)).toBeUndefined();
    expect(sdkMissingMessage('a string')).toBeUndefined();
  });
});
