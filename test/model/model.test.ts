/**
 * Issue 17, "Proof": random sequences of what the project's sources and the world around them
 * do, against real Redis, the simulator (over HTTP) and real worker processes; at the end of
 * each, the queue drained, the six checks of checks.ts against the simulator's own record.
 *
 * `npm run test:model -- --seed N --runs N --steps N` (scripts/test-model.ts; or MODEL_SEED,
 * MODEL_RUNS, MODEL_STEPS, MODEL_PATH, MODEL_SHRINK_MS). A failing sequence is shrunk (for at
 * most MODEL_SHRINK_MS) and printed with its report; the report is also saved under
 * test-results/model/.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  activate,
  bulk,
  cancel,
  deactivate,
  faults,
  kill,
  killAll,
  outside,
  race,
  readable,
  releaseAll,
  reset,
  restart,
  settle,
  signals,
  tick,
  trip,
  undo,
  windowCancel,
  windowCreate,
  windowEnd,
  windowExtend,
  windowStart,
  type Op,
} from './ops.js';
import { modelOptions } from './options.js';
import { OpCommand, runOp, runSequence, type SequenceResult } from './run.js';

/** Accounts in play: few, so that the sources collide on them. */
const POOL = 6;

const acct = fc.nat({ max: POOL - 1 });
const accts = fc.uniqueArray(acct, { minLength: 1, maxLength: 3 });
const ref = fc.nat({ max: 4 });

/** Producer calls (they can also race each other). */
const producerOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: accts.map((a) => deactivate(a)) },
  { weight: 3, arbitrary: acct.map((i) => activate(i)) },
  {
    weight: 3,
    arbitrary: fc.uniqueArray(acct, { minLength: 2, maxLength: 4 }).map((a) => bulk(a)),
  },
  { weight: 1, arbitrary: ref.map((k) => cancel(k)) },
  { weight: 2, arbitrary: fc.tuple(ref, fc.boolean()).map(([k, f]) => undo(k, f)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(acct, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }))
      .map(([i, h, d]) => signals(i, h, d)),
  },
  { weight: 2, arbitrary: acct.map((i) => trip(i)) },
  { weight: 3, arbitrary: acct.map((i) => reset(i)) },
  { weight: 1, arbitrary: fc.constantFrom('short' as const, 'long' as const).map((k) => tick(k)) },
  { weight: 3, arbitrary: ref.map((k) => windowStart(k)) },
  { weight: 3, arbitrary: ref.map((k) => windowEnd(k)) },
  { weight: 1, arbitrary: ref.map((k) => windowCancel(k)) },
  { weight: 1, arbitrary: ref.map((k) => windowExtend(k)) },
);

const anyOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 24, arbitrary: producerOp },
  {
    weight: 3,
    arbitrary: fc.uniqueArray(acct, { minLength: 1, maxLength: 4 }).map((a) => windowCreate(a)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(acct, fc.constantFrom('active' as const, 'inactive' as const))
      .map(([i, s]) => outside(i, s)),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('off' as const, 'flaky' as const, 'slow' as const)
      .map((p) => faults(p)),
  },
  { weight: 1, arbitrary: fc.tuple(acct, fc.boolean()).map(([i, ok]) => readable(i, ok)) },
  { weight: 1, arbitrary: fc.nat({ max: 1 }).map((s) => kill(s)) },
  { weight: 2, arbitrary: fc.constant(killAll) },
  { weight: 3, arbitrary: fc.constant(restart) },
  { weight: 3, arbitrary: fc.constantFrom(50, 300, 1_000).map((ms) => settle(ms)) },
  { weight: 2, arbitrary: fc.tuple(producerOp, producerOp).map(([a, b]) => race(a, b)) },
);

describe('model: random sequences (issue 17)', () => {
  it('every sequence ends with the six checks holding', async () => {
    const o = modelOptions();
    console.log(
      `model seed: ${o.seed} (runs ${o.runs}, steps ${o.steps}${o.path ? `, path ${o.path}` : ''}; replay: npm run test:model -- --seed ${o.seed})`,
    );
    let sequences = 0;
    let commands = 0;
    let firstFailureAt: number | undefined;
    let smallest: SequenceResult | undefined;
    const covered: Record<string, number> = {};
    const started = Date.now();
    const property = fc.asyncProperty(
      fc.record({
        simSeed: fc.integer(),
        initialOff: fc.uniqueArray(acct, { maxLength: 2 }),
        releaseAtEnd: fc.boolean(),
        cmds: fc.commands([anyOp.map((op) => new OpCommand(op))], {
          maxCommands: o.steps,
          size: 'max',
        }),
      }),
      async ({ simSeed, initialOff, releaseAtEnd, cmds }) => {
        // Shrinking has had its time: every further candidate passes, so the smallest failing
        // sequence found so far is the one reported.
        if (firstFailureAt !== undefined && Date.now() - firstFailureAt > o.shrinkMs) return;
        sequences += 1;
        const label = `seed ${o.seed} sequence ${sequences}`;
        const r = await runSequence(
          { accounts: POOL, initialOff, simSeed, label },
          o.drainMs,
          async (w) => {
            await fc.asyncModelRun(() => ({ model: {}, real: w }), cmds);
            if (releaseAtEnd) await runOp(w, releaseAll);
          },
        );
        commands += r.commands;
        for (const [k, n] of Object.entries(r.covered)) covered[k] = (covered[k] ?? 0) + n;
        if (r.failures.length > 0) {
          firstFailureAt ??= Date.now();
          if (!smallest || r.commands <= smallest.commands) smallest = r;
          throw new Error(`${r.text}\n(report: ${r.path})`);
        }
      },
    );
    const details = await fc.check(property, {
      seed: o.seed,
      numRuns: o.runs,
      ...(o.path ? { path: o.path } : {}),
    });
    console.log(
      `model: ${sequences} sequence(s), ${commands} command(s), ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    console.log(
      `model covered: ${Object.entries(covered)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    if (details.failed) {
      const shrunk = details.counterexample?.[0];
      const message = [
        `model test failed (seed ${o.seed}, path ${details.counterexamplePath ?? '?'}; replay: npm run test:model -- --seed ${o.seed} --path ${details.counterexamplePath ?? '?'})`,
        `after ${details.numRuns} run(s) and ${details.numShrinks} shrink(s)`,
        shrunk ? `smallest sequence: ${fc.stringify(shrunk.cmds)}` : '',
        details.errorInstance instanceof Error
          ? details.errorInstance.message
          : String(details.errorInstance),
        smallest ? `(smallest failing sequence seen: ${smallest.path})` : '',
      ].join('\n');
      expect.fail(message);
    }
  });
});
