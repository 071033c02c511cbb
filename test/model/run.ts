/**
 * Running a sequence of {@link Op}s in a fresh {@link World} and checking it: shared by the
 * random model test (fast-check's commands) and the fixed cases.
 */
import fc from 'fast-check';
import { coverage, finish, report, saveReport, type Failure } from './checks.js';
import { expectedError, type Op } from './ops.js';
import type { World, WorldOptions } from './world.js';
import { World as WorldClass } from './world.js';

/** Runs one op as a step of the world. */
export function runOp(w: World, op: Op): Promise<void> {
  return w.step(
    op.label,
    op.concurrent ?? false,
    () => op.exec(w),
    (e) => expectedError(w, e),
  );
}

export interface SequenceResult {
  failures: Failure[];
  /** The readable report (also saved under test-results/model/). */
  text: string;
  path: string;
  commands: number;
  ms: number;
  /** What it exercised (see checks.ts `coverage`). */
  covered: Record<string, number>;
}

/**
 * A fresh world, `body` (the commands), then the end of the sequence and the checks; the world
 * is stopped whatever happens. `extra` adds checks of its own (a fixed case's expectations).
 */
export async function runSequence(
  options: WorldOptions,
  drainMs: number,
  body: (w: World) => Promise<void>,
  extra?: (w: World) => Promise<Failure[]>,
): Promise<SequenceResult> {
  const started = Date.now();
  const w = await WorldClass.start(options);
  try {
    await body(w);
    const commands = w.trace.length;
    const { failures, collected } = await finish(w, drainMs);
    if (extra) failures.push(...(await extra(w)));
    const text = report(w, options.label, failures, collected);
    const path = saveReport(options.label, text);
    return {
      failures,
      text,
      path,
      commands,
      ms: Date.now() - started,
      covered: coverage(w, collected),
    };
  } finally {
    await w.stop();
  }
}

/** A command of fast-check's model run: one op. */
export class OpCommand implements fc.AsyncCommand<object, World> {
  constructor(readonly op: Op) {}
  check(): boolean {
    return true;
  }
  async run(_model: object, w: World): Promise<void> {
    await runOp(w, this.op);
  }
  toString(): string {
    return this.op.label;
  }
}
