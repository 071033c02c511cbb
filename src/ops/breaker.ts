/**
 * The bounce-spike breaker as library functions (the `breaker` and `signal` CLI commands, the
 * HTTP routes): count a signal, trip, reset, read. Each call opens and closes its own
 * connections; a long-running server keeps one breaker with {@link openBreaker}.
 */
import type { Config } from '../config.js';
import { StateConflictError, UsageError } from '../errors.js';
import { ACCOUNT_ID_RULE, ACCOUNT_ID_RULE_TEXT, type BreakerMode } from '../model.js';
import {
  createBreaker,
  type Breaker,
  type BreakerModes,
  type BreakerStatus,
  type SignalResult,
} from '../producers/breaker/breaker.js';
import { breakerRules } from '../producers/breaker/rules.js';
import { openProducer } from '../queue/open-producer.js';
import type { ModeChange } from '../store/breaker-mode.js';
import type { ResetResult } from '../store/breaker-reset.js';
import type { TripResult } from '../store/breaker-trip.js';
import { keysFor } from '../store/keys.js';

export type {
  Breaker,
  BreakerModes,
  BreakerStatus,
  ModeChange,
  ResetResult,
  SignalResult,
  TripResult,
};

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

function checkAccount(accountId: string): void {
  if (!ACCOUNT_ID_RULE.test(accountId)) {
    throw new UsageError(`account: "${accountId}" ${ACCOUNT_ID_RULE_TEXT}`);
  }
}

/**
 * A trip of a breaker open already, or a reset of one not open: refused by its state
 * (`state_conflict`), with the same words on the CLI and over HTTP.
 */
export function breakerRefusal(accountId: string, asked: 'trip' | 'reset'): StateConflictError {
  return new StateConflictError(
    asked === 'trip'
      ? `the breaker of ${accountId} is open already: nothing done`
      : `the breaker of ${accountId} is not open: nothing done`,
  );
}

/** Count one signal (`{ id, account_id, outcome, bounce_type?, occurred_at }`). */
export function recordSignal(config: Config, signal: unknown): Promise<SignalResult> {
  return withBreaker(config, (b) => b.signal(signal));
}

/** Trip an account's breaker by hand; `actor`: who asked (model/actor.ts). */
export function tripBreaker(
  config: Config,
  accountId: string,
  reason?: string,
  actor?: string,
): Promise<TripResult> {
  checkAccount(accountId);
  return withBreaker(config, (b) => b.trip(accountId, reason, actor));
}

/** Reset an account's open breaker; `actor`: who asked (the `breaker.reset` event says so). */
export function resetBreaker(
  config: Config,
  accountId: string,
  actor?: string,
): Promise<ResetResult> {
  checkAccount(accountId);
  return withBreaker(config, (b) => b.reset(accountId, actor));
}

/**
 * Set (or clear: `mode` null) the run-time breaker mode of an account, or the default's
 * (`accountId` null); `actor`: who (the `breaker.mode_changed` event says so).
 */
export function setBreakerMode(
  config: Config,
  accountId: string | null,
  mode: BreakerMode | null,
  actor: string | null,
): Promise<ModeChange> {
  if (accountId !== null) checkAccount(accountId);
  return withBreaker(config, (b) => b.setMode(accountId, mode, actor));
}

/** The default mode and every account with a mode of its own. */
export function breakerModes(config: Config): Promise<BreakerModes> {
  return withBreaker(config, (b) => b.modes());
}

/** One account's breaker, or every account's the breaker has seen (most recent first). */
export function breakerStatus(
  config: Config,
  accountId?: string,
  limit = 1000,
): Promise<BreakerStatus[]> {
  if (accountId !== undefined) checkAccount(accountId);
  return withBreaker(config, async (b) => {
    const ids = accountId === undefined ? await b.list(limit) : [accountId];
    return Promise.all(ids.map((id) => b.status(id)));
  });
}
