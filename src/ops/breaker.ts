/**
 * The bounce-spike breaker as library functions (the `breaker` and `signal` CLI commands, the
 * HTTP routes): count a signal, trip, reset, read. Each call opens and closes its own
 * connections; a long-running server keeps one breaker with {@link openBreaker}.
 */
import type { Config } from '../config.js';
import { StateConflictError, UsageError } from '../errors.js';
import { PROVIDER_ID_RULE, PROVIDER_ID_RULE_TEXT } from '../model.js';
import {
  createBreaker,
  type Breaker,
  type BreakerStatus,
  type SignalResult,
} from '../producers/breaker/breaker.js';
import { breakerRules } from '../producers/breaker/rules.js';
import { openProducer } from '../queue/open-producer.js';
import type { ResetResult } from '../store/breaker-reset.js';
import type { TripResult } from '../store/breaker-trip.js';
import { keysFor } from '../store/keys.js';

export type { Breaker, BreakerStatus, ResetResult, SignalResult, TripResult };

/** A breaker with its own connections; `close` ends them. */
export interface BreakerHandle extends Breaker {
  /** Close within `timeoutMs` (default 5 s), whatever Redis does. */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * A breaker with its own connections (Redis, the queue), for servers and library users: count
 * signals, trip, reset, read. The rules are checked here (a ConfigError names the setting).
 */
export function openBreaker(config: Config): BreakerHandle {
  const rules = breakerRules(config);
  const producer = openProducer(config);
  const breaker = createBreaker({
    redis: producer.redis,
    keys: keysFor(config.prefix),
    producer,
    rules,
    dedupeTtlS: config.signalDedupeTtlS,
    eventsMaxLen: config.eventsMaxLen,
    cooldownS: config.breakerCooldownS,
    cooldownMaxS: config.breakerCooldownMaxS,
    halfOpenWatchS: config.breakerHalfOpenWatchS,
  });
  return { ...breaker, close: (timeoutMs?: number) => producer.close(timeoutMs) };
}

async function withBreaker<T>(config: Config, fn: (b: Breaker) => Promise<T>): Promise<T> {
  const handle = openBreaker(config);
  try {
    return await fn(handle);
  } finally {
    await handle.close();
  }
}

function checkAccount(providerId: string): void {
  if (!PROVIDER_ID_RULE.test(providerId)) {
    throw new UsageError(`account: "${providerId}" ${PROVIDER_ID_RULE_TEXT}`);
  }
}

/**
 * A trip of a breaker open already, or a reset of one not open: refused by its state
 * (`state_conflict`), with the same words on the CLI and over HTTP.
 */
export function breakerRefusal(providerId: string, asked: 'trip' | 'reset'): StateConflictError {
  return new StateConflictError(
    asked === 'trip'
      ? `the breaker of ${providerId} is open already: nothing done`
      : `the breaker of ${providerId} is not open: nothing done`,
  );
}

/** Count one signal (`{ id, provider_id, outcome, bounce_type?, occurred_at }`). */
export function recordSignal(config: Config, signal: unknown): Promise<SignalResult> {
  return withBreaker(config, (b) => b.signal(signal));
}

/** Trip an account's breaker by hand. */
export function tripBreaker(
  config: Config,
  providerId: string,
  reason?: string,
): Promise<TripResult> {
  checkAccount(providerId);
  return withBreaker(config, (b) => b.trip(providerId, reason));
}

/** Reset an account's open breaker. */
export function resetBreaker(config: Config, providerId: string): Promise<ResetResult> {
  checkAccount(providerId);
  return withBreaker(config, (b) => b.reset(providerId));
}

/** One account's breaker, or every account's the breaker has seen (most recent first). */
export function breakerStatus(
  config: Config,
  providerId?: string,
  limit = 1000,
): Promise<BreakerStatus[]> {
  if (providerId !== undefined) checkAccount(providerId);
  return withBreaker(config, async (b) => {
    const ids = providerId === undefined ? await b.list(limit) : [providerId];
    return Promise.all(ids.map((id) => b.status(id)));
  });
}
