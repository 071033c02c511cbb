/** The simulator's state, shared by the API and admin routes. */
import { AccountStore } from './accounts.js';
import { FaultController } from './faults.js';
import { IdempotencyStore } from './idempotency.js';
import { RateLimiter } from './rate-limit.js';
import { StatsCollector } from './stats.js';
import type { SimulatorOptions } from './types.js';

export interface SimConfig {
  readonly apiKey: string;
  readonly readOnlyApiKey: string | undefined;
  readonly accounts: number;
}

export interface SimContext {
  readonly config: SimConfig;
  readonly accounts: AccountStore;
  readonly idempotency: IdempotencyStore;
  readonly limiter: RateLimiter;
  readonly faults: FaultController;
  readonly stats: StatsCollector;
  /** Timers holding delayed responses, cleared on close. */
  readonly timers: Set<NodeJS.Timeout>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min)
    throw new RangeError(`simulator option ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export function createContext(opts: SimulatorOptions): SimContext {
  const apiKey = opts.apiKey ?? 'smx_root_sim_key';
  if (apiKey === '') throw new RangeError('simulator option apiKey must not be empty');
  const accounts = count('accounts', opts.accounts, 50, 0);
  return {
    config: {
      apiKey,
      readOnlyApiKey: opts.readOnlyApiKey === '' ? undefined : opts.readOnlyApiKey,
      accounts,
    },
    accounts: new AccountStore(accounts),
    idempotency: new IdempotencyStore(count('idempotencyTtlMs', opts.idempotencyTtlMs, DAY_MS, 1)),
    limiter: new RateLimiter(
      count('rateLimit', opts.rateLimit, 600, 0),
      count('rateWindowMs', opts.rateWindowMs, 60_000, 1),
    ),
    faults: new FaultController(opts.random ?? Math.random, opts.faults),
    stats: new StatsCollector(),
    timers: new Set(),
  };
}

/** Zero stats, clear idempotency cache, scripts and rate windows, re-seed accounts. Faults are kept. */
export function resetContext(ctx: SimContext): void {
  ctx.stats.reset();
  ctx.idempotency.clear();
  ctx.faults.clearScripts();
  ctx.limiter.reset();
  ctx.accounts.seed(ctx.config.accounts);
}
