import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * The integration suite's essentials, run again against a Redis Cluster (project `cluster`):
 * the pipeline (enqueue, workers, simulator), holds, bulk runs, the breaker (and its urgent
 * queue), windows, the webhook inbox and the store's scripts (their files run in parallel, each
 * on its own prefix, so its own slot).
 */
const CLUSTER_ESSENTIALS = [
  'test/integration/pipeline.test.ts',
  'test/integration/holds-decide.test.ts',
  'test/integration/manual-holds.test.ts',
  'test/integration/bulk-holds.test.ts',
  'test/integration/breaker.test.ts',
  'test/integration/breaker-urgent.test.ts',
  'test/integration/windows.test.ts',
  'test/integration/webhook-inbox.test.ts',
  'test/integration/store.test.ts',
  'test/integration/script-keys.test.ts',
];

/**
 * Test files at once: two even on a 2-core machine, where vitest's default (cores - 1) runs one
 * file at a time while most of a file's time is spent waiting for Redis, the simulator or a
 * child process. Every test has its own queue prefix, so files never share keys. The e2e and
 * model projects run one file at a time all the same (`fileParallelism: false` puts them in
 * vitest's sequential group, after the others): they start processes and time recoveries.
 */
const WORKERS = Math.max(2, availableParallelism() - 1);

export default defineConfig({
  test: {
    maxWorkers: WORKERS,
    // The JSON report is what .ci/run reads for its `tests: N passed, N failed` line.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    // Every Lua script checks that each key it touches is declared in KEYS (src/store/script.ts),
    // in the test process and in the processes tests start.
    env: { SDX_CHECK_SCRIPT_KEYS: '1' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/leak-guard.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // build-dist.ts: `npm run build` first; the tests spawn the CLI from dist/.
          globalSetup: ['test/support/global-setup.ts', 'test/support/build-dist.ts'],
          setupFiles: ['test/support/leak-guard.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // Issue 18 part 6: a throwaway 3-master Redis Cluster (test/support/redis-cluster.ts),
          // every client seeded with nodes that do not own the deployment's slot: the named
          // essentials of the integration suite, a bulk run and a slot migration mid-run.
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts', ...CLUSTER_ESSENTIALS],
          globalSetup: ['test/support/cluster-setup.ts'],
          setupFiles: ['test/support/leak-guard.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // Issue 21: Stoplight Prism serving Sendmux's OpenAPI file checks the client's requests
          // and the simulator's answers (`npm run test:contract`).
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          // The randomized model test (issue 17) and its fixed cases: real Redis, the simulator
          // and real worker processes. `npm run test:model -- --seed N --runs N --steps N`.
          name: 'model',
          include: ['test/model/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/leak-guard.ts'],
          testTimeout: 600_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
