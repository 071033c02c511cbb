/**
 * "Executed, answer lost": the operation runs and its answer is cached for replay, but the
 * client never receives it (connection dropped, or no answer at all).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_FAULTS, simAccountId, startSimulator } from '../../../src/sim/index.js';
import type { Simulator } from '../../../src/sim/index.js';
import { envelope, failure, post, sequenceRng, useSimulator } from './helpers.js';

let sim: Simulator;
const id = simAccountId(1);
const path = `/providers/${id}/deactivate`;

useSimulator(
  { accounts: 5 },
  (s) => (sim = s),
  (s) => {
    s.setFaults(DEFAULT_FAULTS);
  },
);

describe('lost answers', () => {
  it('lost (drop, the default): executes, resets the connection, the retry is a replay', async () => {
    sim.script(id, [{ kind: 'lost' }]);
    const f = await failure(post(sim, path, { idem: 'lost-1' }));
    expect(f.code).toBe('ECONNRESET');
    expect(sim.account(id)?.status).toBe('inactive');
    expect(sim.stats()).toMatchObject({
      executions: { total: 1, byKey: { 'lost-1': 1 } },
      faults: { lost: 1, drop: 0 },
    });
    const retry = await post(sim, path, { idem: 'lost-1' });
    expect(retry.status).toBe(200);
    expect(envelope(retry).data).toMatchObject({ id, status: 'inactive', is_active: false });
    expect(retry.headers['x-request-id']).toBe(envelope(retry).meta.request_id);
    expect(sim.stats()).toMatchObject({ replays: 1, executions: { total: 1 } });
  });

  it('lost (hang): executes, never answers; the retry after the timeout is a replay, not a 409', async () => {
    sim.script(id, [{ kind: 'lost', mode: 'hang' }]);
    const f = await failure(post(sim, path, { idem: 'lost-2', timeoutMs: 150 }));
    expect(f.code).toBe('ETIMEDOUT');
    expect(sim.account(id)?.status).toBe('inactive');
    const retry = await post(sim, path, { idem: 'lost-2' });
    expect(retry.status).toBe(200);
    expect(envelope(retry).data).toMatchObject({ id, status: 'inactive' });
    expect(sim.stats()).toMatchObject({
      replays: 1,
      inFlightConflicts: 0,
      executions: { total: 1 },
      faults: { lost: 1, hang: 0 },
    });
  });

  it('lost without a key: executed, nothing to replay', async () => {
    sim.script(id, [{ kind: 'lost' }]);
    expect((await failure(post(sim, path))).code).toBe('ECONNRESET');
    expect(sim.account(id)?.status).toBe('inactive');
    expect((await post(sim, path)).status).toBe(200);
    expect(sim.stats()).toMatchObject({ replays: 0, executions: { total: 2 } });
  });

  it('rejects a lost step with an unknown mode', () => {
    expect(() => {
      sim.script(id, [{ kind: 'lost', mode: 'vanish' as 'drop' }]);
    }).toThrow();
  });
});

describe('random lostRate', () => {
  let rsim: Simulator | undefined;
  afterEach(async () => {
    await rsim?.close();
    rsim = undefined;
  });

  it('is drawn after 500, 503, drop and hang, and counts in faults.lost', async () => {
    rsim = await startSimulator({
      accounts: 2,
      random: sequenceRng([0.45, 0.9]),
      faults: {
        error500Rate: 0.1,
        error503Rate: 0.1,
        dropRate: 0.1,
        hangRate: 0.1,
        lostRate: 0.1,
      },
    });
    const p = `/providers/${simAccountId(1)}/deactivate`;
    expect((await failure(post(rsim, p, { idem: 'r-1' }))).code).toBe('ECONNRESET');
    expect(rsim.account(simAccountId(1))?.status).toBe('inactive');
    const retry = await post(rsim, p, { idem: 'r-1' });
    expect(retry.status).toBe(200);
    expect(rsim.stats()).toMatchObject({
      replays: 1,
      executions: { total: 1 },
      faults: { lost: 1, drop: 0, hang: 0, error500: 0, error503: 0 },
    });
  });
});
