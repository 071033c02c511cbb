/**
 * Issue 17's reproduced cases as fixed sequences of the model test's commands, checked like any
 * random sequence (checks.ts), plus each case's own expectation. Case 4 (the wrong account
 * switched off by a bounce) is the breaker's sender resolution: tested in
 * test/unit/breaker-resolve.test.ts, not here.
 */
import { describe, expect, it } from 'vitest';
import type { Failure } from './checks.js';
import {
  activate,
  bulk,
  cancel,
  deactivate,
  drain,
  faults,
  kill,
  outside,
  readable,
  reset,
  restart,
  tick,
  trip,
  windowCreate,
  windowCreateAfter,
  windowEnd,
  undo,
  windowStart,
  type Op,
} from './ops.js';
import { modelOptions } from './options.js';
import { runOp, runSequence } from './run.js';
import type { World } from './world.js';

const TEN = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

async function runCase(
  label: string,
  accounts: number,
  ops: Op[],
  extra?: (w: World) => Promise<Failure[]>,
  simSeed = 1,
): Promise<void> {
  const r = await runSequence(
    { accounts, label: `case ${label}`, simSeed },
    modelOptions().drainMs,
    async (w) => {
      for (const op of ops) await runOp(w, op);
    },
    extra,
  );
  expect(r.failures, `${r.text}\n(report: ${r.path})`).toEqual([]);
}

/** Every target of window #k is held by it and off at the simulator, and its start said so. */
function windowHolds(k: number): (w: World) => Promise<Failure[]> {
  return async (w) => {
    const meta = w.windows[k];
    if (!meta) return [{ check: 7, message: `no window #${k}` }];
    const out: Failure[] = [];
    const holds = await w.readAllHolds();
    for (const id of meta.targets) {
      if (!(holds[id] ?? []).some((h) => h.startsWith(`window:${meta.id}:`))) {
        out.push({ check: 7, account: id, message: `${id} is not held by ${meta.id}` });
      }
      if (w.sim.account(id)?.status !== 'inactive') {
        out.push({
          check: 7,
          account: id,
          message: `${id} is ${w.sim.account(id)?.status ?? '?'} during ${meta.id}`,
        });
      }
    }
    const events = (await w.redis.xrange(w.keys.events, '-', '+')).filter(([, f]) =>
      (f[1] ?? '').includes(`"window.started"`),
    );
    if (!events.some(([, f]) => (f[1] ?? '').includes(meta.id))) {
      out.push({ check: 7, message: `no window.started for ${meta.id}` });
    }
    return out;
  };
}

describe('model: the cases of issue 17', () => {
  it('1. back-to-back windows: W1 ends as W2 (same 10 accounts) starts, W1 activations still queued: off during W2', async () => {
    await runCase(
      '1 back-to-back windows',
      10,
      [
        windowCreate(TEN),
        windowCreateAfter(0),
        windowStart(0),
        drain(),
        // No worker runs W1's end activations before W2 reads the accounts.
        kill(0),
        kill(1),
        windowEnd(0),
        windowStart(1),
        restart,
      ],
      windowHolds(1),
    );
  });

  it('1b. a hold taken while an activation is still queued: when it goes, the account comes back on', async () => {
    // The hold's base is what the queued activation will make the account (active), not the
    // recorded `inactive`: a takeHold that ignored our own pending intents fails here.
    await runCase('1b hold taken over a queued activation', 2, [
      deactivate([0]),
      drain(),
      kill(0),
      kill(1),
      activate(0), // queued: no worker runs it yet
      trip(0),
      restart,
      drain(),
      reset(0),
    ]);
  });

  it('2. a breaker trip lands between a manual activate releasing its hold and its enqueue: off', async () => {
    await runCase('2 manual activate racing a trip', 3, [
      deactivate([0]),
      drain(),
      activate(0, trip(0)),
    ]);
  });

  it('3a. an account off before a breaker trip (switched off outside) stays off after reset', async () => {
    await runCase('3a off before a trip, reset', 3, [
      outside(0, 'inactive'),
      trip(0),
      drain(),
      reset(0),
    ]);
  });

  it('3b. ... and after the half-open step', async () => {
    await runCase('3b off before a trip, half-open', 3, [
      outside(1, 'inactive'),
      trip(1),
      drain(),
      tick('short'),
    ]);
  });

  it('5a. with 10 % 500s on the API a short window still switches every target off and lists every target', async () => {
    // 15 s on the windows' clock: three tries of the start (the windows queue retries every 5 s).
    // The simulator's fault draws are seeded: with seed 3, a start that reads without retrying
    // (the code issue 17 was filed against) gets no full read of the ten accounts in its three
    // tries. Any seed must pass once reads are retried.
    await runCase(
      '5a window on a flaky API',
      10,
      [faults('reads'), windowCreate(TEN, 15_000), windowStart(0)],
      windowHolds(0),
      3,
    );
  });

  it('5b. one target unreadable: the window still holds and switches off every target', async () => {
    await runCase(
      '5b window with an unreadable target',
      10,
      [readable(3, false), windowCreate(TEN, 15_000), windowStart(0)],
      windowHolds(0),
    );
  });

  // Found by the random sequences (seed 1003, `npm run test:model -- --seed 1003 --runs 8`),
  // shrunk by hand to what matters.

  it('found: a held account whose deactivation is superseded by a newer one that batch cancel then cancels stays off', async () => {
    await runCase('found 1 superseded by a cancelled intent', 2, [
      kill(0),
      kill(1),
      deactivate([0]), // manual hold, its deactivation queued
      bulk([0]), // a newer deactivation (and the bulk hold)
      cancel(0), // the newer one ends cancelled, the bulk hold goes; the manual hold stays
      restart, // the manual deactivation must still switch the account off
    ]);
  });

  it('found: batch cancel releasing the last hold of an account whose base is active switches it back on', async () => {
    await runCase('found 2 last hold released by batch cancel', 2, [
      trip(0),
      drain(), // off by the breaker
      kill(0),
      kill(1),
      bulk([0]), // held by the run too, its deactivation queued
      reset(0), // the breaker lets go; the run still holds it
      cancel(0), // the run's intent cancelled, its hold (the last) released: base active
      restart,
    ]);
  });

  it('found: batch undo releasing the last hold of an account whose base is active switches it back on, though the run did not switch it off itself', async () => {
    // Seed 1082539074 (the default budget): a run's deactivation superseded by an operator's,
    // the operator's hold released by an activate the run's hold refused; undo then lets go of
    // the last hold and the account, on before, stays off.
    await runCase('found 3 last hold released by batch undo', 2, [
      kill(0),
      kill(1),
      bulk([0]), // held by the run, its deactivation queued
      deactivate([0]), // an operator's, newer: the run's will end superseded
      activate(0), // the operator lets go: still held by the run
      restart,
      drain(), // off (by the operator's deactivation)
      undo(0, false), // the last hold goes: base active
    ]);
  });
});
