/** The simulator's state, shared by the API and admin routes. */
import { AccountStore } from './accounts.js';
import { DeliveryLogStore } from './delivery-logs.js';
import { ExecutionLog } from './exec-log.js';
import { FaultController } from './faults.js';
import { IdempotencyStore } from './idempotency.js';
import { RateLimiter } from './rate-limit.js';
import { StatsCollector } from './stats.js';
import type { SimulatorOptions } from './types.js';

/** The one team of the simulator: the root key and the read-only key both belong to it. */
export const SIM_TEAM_ID = 'team_sim';

export interface SimConfig {
  readonly teamId: string;
  readonly apiKey: string;
  readonly readOnlyApiKey: string | undefined;
  readonly accounts: number;
}

export interface SimContext {
  readonly config: SimConfig;
  readonly accounts: AccountStore;
  /** Delivery logs for GET /emails/logs: empty until added. */
  readonly logs: DeliveryLogStore;
  readonly idempotency: IdempotencyStore;
  readonly limiter: RateLimiter;
  readonly faults: FaultController;
  readonly stats: StatsCollector;
  /** What changed the accounts, in order (executions and outside changes). */
  readonly log: ExecutionLog;
  /** Simulated time (epoch ms): rate-limit windows, idempotency TTL, updated_at. */
  readonly now: () => number;
  /** While `revoked`, every API request answers 401 (see `Simulator.setKeyRevoked`). */
  readonly auth: { revoked: boolean };
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
      teamId: SIM_TEAM_ID,
      apiKey,
      readOnlyApiKey: opts.readOnlyApiKey === '' ? undefined : opts.readOnlyApiKey,
      accounts,
    },
    accounts: new AccountStore(accounts),
    logs: new DeliveryLogStore(),
    idempotency: new IdempotencyStore(count('idempotencyTtlMs', opts.idempotencyTtlMs, DAY_MS, 1)),
    limiter: new RateLimiter(
      count('rateLimit', opts.rateLimit, 600, 0),
      count('rateWindowMs', opts.rateWindowMs, 60_000, 1),
      opts.rateAligned ?? false,
    ),
    faults: new FaultController(opts.random ?? Math.random, opts.faults),
    stats: new StatsCollector(),
    log: new ExecutionLog(),
    now: opts.now ?? Date.now,
    auth: { revoked: false },
    timers: new Set(),
  };
}

/**
 * Zero stats, clear idempotency cache, scripts, rate windows, the revoked-key switch, the
 * delivery logs, the execution log and the unreadable accounts, re-seed accounts. Fault rates
 * are kept.
 */
export function resetContext(ctx: SimContext): void {
  ctx.stats.reset();
  ctx.auth.revoked = false;
  ctx.idempotency.clear();
  ctx.faults.clearScripts();
  ctx.faults.clearUnreadable();
  ctx.log.clear();
  ctx.limiter.reset();
  ctx.accounts.seed(ctx.config.accounts);
  ctx.logs.clear();
}
