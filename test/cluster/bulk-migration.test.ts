/**
 * Redis Cluster with the real pipeline: a bulk run of 300 accounts through two worker
 * processes' worth of BullMQ workers and the simulator, and the same run while the
 * deployment's slot migrates to another master (IMPORTING / MIGRATING, MIGRATE in batches,
 * SETSLOT NODE): every account switched off, every call executed exactly once (the
 * simulator's own log), the batch complete. Every client is seeded with nodes that do not own
 * the slot.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { startBulkRun, waitForBatch } from '../../src/ops/bulk.js';
import { bulkKey } from '../../src/producers/bulk/run.js';
import { simAccountId } from '../../src/sim/index.js';
import { resetBreaker } from '../../src/store/breaker-reset.js';
import { countAndTrip, type BreakerRules } from '../../src/store/breaker-trip.js';
import { seenState } from '../../src/store/hold-record.js';
import { releaseHolds, takeHold } from '../../src/store/holds.js';
import { testCluster } from '../support/context.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { keySlot, migrateSlot, slotOwner } from '../support/redis-cluster.js';

const ACCOUNTS = 300;

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

const ids = Array.from({ length: ACCOUNTS }, (_, i) => simAccountId(i + 1));

const RULES: BreakerRules = {
  mode: 'act',
  ownMode: false,
  windowS: 300,
  bounceRate: 0.05,
  bounceWarnRate: 0.05,
  bounceMinVolume: 100,
  complaintRate: 0.001,
  complaintWarnRate: 0.001,
  complaintMinVolume: 1000,
};

/**
 * While `until` is pending: on accounts outside the run, take a hold and release it (the base
 * comes back), and trip a breaker and reset it, checking each answer. These scripts read and
 * write many keys per account (status, order, holds, bindings, breaker buckets): any of them
 * not declared in KEYS fails or reads the wrong node while the slot migrates.
 */
async function holdTraffic(pl: Pipeline, until: Promise<unknown>): Promise<number> {
  const migrating = { now: true };
  void until.finally(() => (migrating.now = false));
  let steps = 0;
  for (let i = 0; migrating.now; i++) {
    const id = `dprov_traffic${i}`;
    const taken = await takeHold(
      pl.redis,
      pl.keys,
      id,
      { id: 'manual', source: 'manual' },
      seenState('active'),
    );
    expect(taken).toMatchObject({ taken: true, base: 'active', needOff: true });
    const [released] = await releaseHolds(pl.redis, pl.keys, [id], 'manual');
    expect(released?.result).toEqual({ released: true, last: true, before: 'active' });
    const trip = await countAndTrip(
      pl.redis,
      pl.keys,
      { accountId: id, force: true, kind: 'hard_bounced' },
      { rules: RULES, dedupeTtlS: 60, eventsMaxLen: 1000 },
    );
    expect(trip.result).toBe('tripped');
    const reset = await resetBreaker(pl.redis, pl.keys, id, { windowS: 300, eventsMaxLen: 1000 });
    expect(reset).toMatchObject({ result: 'reset', hold: { released: true, last: true } });
    steps += 1;
  }
  return steps;
}

async function pipeline(): Promise<Pipeline> {
  const config: Partial<Config> = { concurrency: 5 };
  return startPipeline({
    sim: { accounts: ACCOUNTS, faults: { latencyMs: 20, latencyJitterMs: 40 } },
    workers: 2,
    config,
  });
}

/** Every account off, and the simulator executed each account's call exactly once. */
function expectEachExecutedOnce(pl: Pipeline, batchId: string): void {
  const executed = new Map<string, number>();
  for (const e of pl.sim.log()) {
    if (e.via === 'api' && e.key) executed.set(e.key, (executed.get(e.key) ?? 0) + 1);
  }
  const wrong = ids.filter((id) => executed.get(bulkKey(batchId, id)) !== 1);
  expect(wrong, 'accounts whose call did not execute exactly once').toEqual([]);
  expect(executed.size).toBe(ACCOUNTS);
  expect(ids.filter((id) => pl.sim.account(id)?.status !== 'inactive')).toEqual([]);
}

describe('on a Redis Cluster', () => {
  it(`a bulk run of ${ACCOUNTS} accounts: each switched off, each call executed once`, async () => {
    p = await pipeline();
    const started = Date.now();
    const { batch, done } = await startBulkRun(p.config, {
      source: { kind: 'ids', ids },
      batchId: 'cluster-bulk',
      wait: true,
      waitTimeoutMs: 60_000,
      pollMs: 100,
    });
    expect(done).toBe(true);
    expect(batch).toMatchObject({ total: ACCOUNTS, succeeded: ACCOUNTS, failed: 0, queued: 0 });
    expectEachExecutedOnce(p, 'cluster-bulk');
    process.stdout.write(`cluster bulk run: ${ACCOUNTS} accounts in ${Date.now() - started} ms\n`);
  });

  it('the slot migrates to another master mid-run: the run completes, each call executed once', async () => {
    const cluster = testCluster();
    if (!cluster) throw new Error('the cluster project provides redisCluster');
    p = await pipeline();
    const pl = p;
    const slot = keySlot(pl.config.prefix);
    const from = await slotOwner(cluster.nodes, slot);
    const to = cluster.nodes.find((n) => n.port !== from.port);
    if (!to) throw new Error('no other master');

    const started = Date.now();
    const run = await startBulkRun(pl.config, {
      source: { kind: 'ids', ids },
      batchId: 'cluster-migrate',
      wait: false,
    });
    expect(run.pass.enqueued).toBe(ACCOUNTS);
    // Mid-run: some accounts done, most still to go.
    let doneAtStart: number;
    for (;;) {
      const b = (await waitForBatch(pl.redis, pl.keys, 'cluster-migrate', { waitTimeoutMs: 0 }))
        .batch;
      doneAtStart = b.succeeded + b.failed;
      if (doneAtStart >= 20) break;
      await sleep(20);
    }
    const migrationStarted = Date.now();
    const migration = migrateSlot(cluster.nodes, slot, to, {
      batch: 20,
      onBatch: () => sleep(20),
    });
    const [moved, traffic] = await Promise.all([migration, holdTraffic(pl, migration)]);
    const migrationMs = Date.now() - migrationStarted;
    const doneAtEnd = await waitForBatch(pl.redis, pl.keys, 'cluster-migrate', {
      waitTimeoutMs: 0,
    });
    const { batch, done } = await waitForBatch(pl.redis, pl.keys, 'cluster-migrate', {
      waitTimeoutMs: 60_000,
      pollMs: 100,
    });
    expect(await slotOwner(cluster.nodes, slot)).toEqual(to);
    expect(moved.keys).toBeGreaterThan(0);
    expect(done).toBe(true);
    expect(batch).toMatchObject({ total: ACCOUNTS, succeeded: ACCOUNTS, failed: 0, queued: 0 });
    expectEachExecutedOnce(pl, 'cluster-migrate');
    const finished = doneAtEnd.batch.succeeded + doneAtEnd.batch.failed;
    process.stdout.write(
      `cluster slot migration: slot ${slot} ${from.port} -> ${to.port}, ${moved.keys} keys in ${moved.batches} batches over ${migrationMs} ms; ${traffic} hold + breaker rounds meanwhile; accounts done when it began ${doneAtStart}, when it ended ${finished} of ${ACCOUNTS}; run ${Date.now() - started} ms\n`,
    );
    // The migration began mid-run.
    expect(doneAtStart).toBeLessThan(ACCOUNTS);
  });
});
