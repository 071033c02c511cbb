/**
 * A real pipeline for integration tests: the simulator over HTTP, real Redis with a fresh
 * prefix, a real producer and real BullMQ workers. `stop()` closes everything and drops keys.
 */
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { isActionEvent, type ActionEvent } from '../../src/model.js';
import { openProducer, type ProducerHandle } from '../../src/queue/open-producer.js';
import { waitForIntents } from '../../src/queue/wait.js';
import type { RedisClient } from '../../src/redis/connect.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';
import { readRecentEvents } from '../../src/store/events.js';
import { keysFor, type Keys } from '../../src/store/keys.js';
import { readStatuses, type AccountStatus } from '../../src/store/status-record.js';
import { startWorker, type ActionWorker } from '../../src/worker/worker.js';
import { dropPrefix, testConfig, testRedis } from './context.js';

export interface Pipeline {
  sim: Simulator;
  config: Config;
  keys: Keys;
  producer: ProducerHandle;
  redis: RedisClient;
  workers: ActionWorker[];
  addWorker(overrides?: Partial<Config>): Promise<ActionWorker>;
  waitFor(keys: readonly string[], timeoutMs?: number): Promise<Map<string, string>>;
  events(type?: ActionEvent['type']): Promise<ActionEvent[]>;
  status(accountId: string): Promise<AccountStatus | undefined>;
  stop(): Promise<void>;
}

export async function startPipeline(
  options: { config?: Partial<Config>; sim?: SimulatorOptions; workers?: number } = {},
): Promise<Pipeline> {
  const sim = await startSimulator({ accounts: 30, rateLimit: 0, ...options.sim });
  const config = testConfig({ baseUrl: sim.url, apiKey: 'smx_root_sim_key', ...options.config });
  const keys = keysFor(config.prefix);
  const producer = openProducer(config);
  const redis = testRedis(config.prefix);
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
  const workers: ActionWorker[] = [];
  const addWorker = async (overrides: Partial<Config> = {}) => {
    const w = await startWorker({ config: { ...config, ...overrides }, logger });
    await w.waitUntilReady();
    workers.push(w);
    return w;
  };
  for (let i = 0; i < (options.workers ?? 1); i++) await addWorker();
  return {
    sim,
    config,
    keys,
    producer,
    redis,
    workers,
    addWorker,
    async waitFor(idempotencyKeys, timeoutMs = 20_000) {
      const { bindings, done } = await waitForIntents(redis, keys, idempotencyKeys, {
        timeoutMs,
        pollMs: 50,
      });
      const states = new Map([...bindings].map(([k, b]) => [k, b?.state ?? 'unknown']));
      if (!done)
        throw new Error(`intents not finished in ${timeoutMs} ms: ${JSON.stringify([...states])}`);
      return states;
    },
    events: async (type) =>
      (await readRecentEvents(redis, keys, { type, limit: 10_000 })).filter(isActionEvent),
    async status(accountId) {
      return (await readStatuses(redis, keys, [accountId]))[0];
    },
    async stop() {
      await Promise.all(workers.map((w) => w.close(2_000)));
      await producer.close();
      await redis.quit();
      await sim.close();
      await dropPrefix(config.prefix);
    },
  };
}

/** A manual intent for tests. */
export function manualIntent(
  accountId: string,
  key: string,
  action: 'deactivate' | 'activate' = 'deactivate',
) {
  return {
    action,
    accountId,
    idempotencyKey: key,
    source: 'manual' as const,
    reason: 'integration test',
  };
}
