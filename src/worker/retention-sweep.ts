/**
 * The worker's retention sweep (store/retention.ts): one worker per RETENTION_SWEEP_S, whoever
 * takes the turn; a sweep still running when the next tick comes is not doubled.
 */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from '../store/keys.js';
import { sweepRetention, takeRetentionTurn } from '../store/retention.js';

export interface RetentionSweeper {
  /** One tick: sweep, unless closing, a sweep is running or Redis is not ready. */
  sweep: () => void;
  /** The latest sweep (resolved when none ran). */
  current: () => Promise<void>;
}

export function retentionSweeper(deps: {
  store: Redis;
  keys: Keys;
  config: Config;
  log: Logger;
  /** Whether the worker is closing (then no new sweep starts). */
  closing: () => boolean;
}): RetentionSweeper {
  const { store, keys, config, log } = deps;
  let sweeping: Promise<void> = Promise.resolve();
  let sweepBusy = false;
  return {
    sweep() {
      if (deps.closing() || sweepBusy || store.status !== 'ready') return;
      sweepBusy = true;
      sweeping = (async () => {
        try {
          if (!(await takeRetentionTurn(store, keys, config.retentionSweepS * 1000))) return;
          const n = await sweepRetention(store, keys, config);
          if (n.accounts + n.breakers + n.batches + n.occurrences > 0) {
            log.info(n, 'retention sweep removed expired records');
          }
        } catch (e) {
          // (A sweep cut short by close() is not an error: the next one starts over.)
          if (store.status === 'ready') log.error({ err: String(e) }, 'retention sweep failed');
        } finally {
          sweepBusy = false;
        }
      })();
    },
    current() {
      return sweeping;
    },
  };
}
