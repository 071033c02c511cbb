/**
 * One read of everything the status page shows (GET /v1/overview): accounts with their status
 * and holds, breakers with their current rates, running and upcoming maintenance windows, the
 * latest failed actions, and what became of webhook events (with the latest ones counted for no
 * account: unresolved, or ambiguous with their candidate accounts). Built from the stores' own readers; every part is bounded
 * ({@link OVERVIEW_LIMITS}) and the answer says how much there was, so a page refreshing every
 * few seconds costs a few hundred small Redis reads whatever the size of the deployment. The
 * windows part (running and upcoming) is made in overview-windows.ts.
 */
import type { Config } from '../config.js';
import type { ActionFailedEvent, BreakerNumbers, WindowFailedEvent } from '../model.js';
import { currentWarning } from '../producers/breaker/breaker.js';
import { breakerRules, ruleLevels, type RulesFor } from '../producers/breaker/rules.js';
import type { Windows } from '../producers/windows/windows.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { effectiveMode, readBreakerModes, type EffectiveMode } from '../store/breaker-mode.js';
import {
  listBreakerAccounts,
  listWarnedAccounts,
  readBreaker,
  readWindow,
  type BreakerRecord,
} from '../store/breaker-state.js';
import { BREAKER_HOLD } from '../store/breaker-trip.js';
import { scanRecentEvents } from '../store/events.js';
import { listHeldAccounts } from '../store/holds.js';
import { keysFor, type Keys } from '../store/keys.js';
import { readWebhookStats, type WebhookStats } from '../store/webhook-stats.js';
import { accountsWithHolds, type AccountWithHolds } from './account-status.js';
import { splitWindows, type RunningWindow, type UpcomingWindow } from './overview-windows.js';

export type { RunningWindow, TargetsSummary, UpcomingWindow } from './overview-windows.js';

/** How much of each part one overview reads. */
export const OVERVIEW_LIMITS = {
  /** Accounts shown: the held ones first (oldest hold first), then the most recently changed. */
  accounts: 200,
  /** Breakers shown: those holding an account off, then the most recent signals. */
  breakers: 200,
  /** Windows considered for running / upcoming: the most recently created. */
  windows: 100,
  /** Failed actions shown, newest first. */
  failures: 50,
  /** Newest events scanned for failures. */
  events_scanned: 5_000,
  /** Latest unresolved and latest ambiguous webhook events shown (each). */
  webhook_events: 20,
} as const;

export type OverviewLimits = { -readonly [K in keyof typeof OVERVIEW_LIMITS]: number };

export type OverviewAccount = AccountWithHolds;

export interface OverviewBreaker extends BreakerRecord {
  /** What a crossing of the trip level does now, and where that comes from. */
  mode: EffectiveMode;
  /**
   * A `breaker.warned` / `breaker.would_trip` said within the window ending now, unless it was
   * said while watching (watching is silent: events only).
   */
  warning: 'warned' | 'would_trip' | null;
  /** Counts and rates over the window ending now. */
  window: BreakerNumbers;
  /** The rules this account's breaker applies. */
  rules: ReturnType<typeof ruleLevels>;
}

export interface Overview {
  generated_at: string;
  limits: OverviewLimits;
  /**
   * How many there are in all (the lists above stop at the limits). `held`: accounts with a
   * hold; of the held accounts listed, `held_off` are recorded off and `held_still_on` are not
   * (their deactivation failed, or they are recorded active): held is not off.
   */
  totals: {
    accounts: number;
    held: number;
    held_off: number;
    held_still_on: number;
    breakers: number;
    windows: number;
  };
  truncated: { accounts: boolean; breakers: boolean; windows: boolean };
  accounts: OverviewAccount[];
  breakers: OverviewBreaker[];
  /** `available` is false when the server runs without the windows' side. */
  windows: { available: boolean; running: RunningWindow[]; upcoming: UpcomingWindow[] };
  /** `action.failed` events, newest first; `scanned` events were read to find them. */
  failures: ActionFailedEvent[];
  failures_scanned: number;
  /**
   * `window.failed` events among the same newest events, newest first: window steps that left
   * targets in the wrong state.
   */
  window_failures: WindowFailedEvent[];
  /**
   * What became of processed webhook events (counters by result), and the latest ones counted
   * for no account: `unresolved` (none found), `ambiguous` (several possible, with candidates).
   */
  webhooks: WebhookStats;
  /** Whether this server can reset a breaker (it runs the breaker). */
  can_reset_breakers: boolean;
}

export interface OverviewDeps {
  config: Config;
  /** For short commands only. */
  redis: Redis;
  /** The server's windows; without them the windows part is empty and says so. */
  windows?: Pick<Windows, 'list'>;
  /** Whether the server runs the breaker (its reset route is there). */
  breakerRoutes: boolean;
  now?: () => Date;
}

async function readAccounts(
  redis: Redis,
  keys: Keys,
  limit: number,
  heldIds: readonly string[],
): Promise<{ accounts: OverviewAccount[]; unrecorded: number }> {
  const recent = await redis.zrevrange(keys.statusIndex, 0, Math.max(0, limit - 1));
  return accountsWithHolds(redis, keys, [...new Set([...heldIds, ...recent])].slice(0, limit));
}

async function readBreakers(
  redis: Redis,
  keys: Keys,
  rules: RulesFor,
  limit: number,
  held: readonly OverviewAccount[],
  now: Date,
): Promise<OverviewBreaker[]> {
  // An open breaker holds its account: those first, whatever the signals since; then the
  // accounts warned most recently, then the most recent signals.
  const holding = held
    .filter((a) => a.holds.some((h) => h.id === BREAKER_HOLD))
    .map((a) => a.account_id);
  // The run-time modes in one read (not one per breaker shown).
  const [warned, recent, modes] = await Promise.all([
    listWarnedAccounts(redis, keys, now.getTime(), limit),
    listBreakerAccounts(redis, keys, limit),
    readBreakerModes(redis, keys),
  ]);
  const ids = [...new Set([...holding, ...warned, ...recent])].slice(0, limit);
  return Promise.all(
    ids.map(async (id) => {
      const r = rules(id);
      const [record, window] = await Promise.all([
        readBreaker(redis, keys, id),
        readWindow(redis, keys, id, r.windowS, now.getTime()),
      ]);
      return {
        ...record,
        mode: effectiveMode(r, { default: modes.default, account: modes.accounts[id] ?? null }),
        warning: currentWarning(record, r.windowS, now.getTime(), { watching: false }),
        window,
        rules: ruleLevels(r),
      };
    }),
  );
}

/** The newest `window.failed` events, scanning at most `scan` of the newest events. */
async function readWindowFailures(
  redis: Redis,
  keys: Keys,
  limit: number,
  scan: number,
): Promise<WindowFailedEvent[]> {
  const { events } = await scanRecentEvents(redis, keys, { type: 'window.failed', limit, scan });
  return events.filter((e): e is WindowFailedEvent => e.type === 'window.failed');
}

/** The newest `action.failed` events, scanning at most `scan` of the newest events. */
async function readFailures(
  redis: Redis,
  keys: Keys,
  limit: number,
  scan: number,
): Promise<{ failures: ActionFailedEvent[]; scanned: number }> {
  const { events, scanned } = await scanRecentEvents(redis, keys, {
    type: 'action.failed',
    limit,
    scan,
  });
  return { failures: events.filter((e) => e.type === 'action.failed'), scanned };
}

/** A reader of the overview; the breaker rules are checked on first use. */
export function overviewReader(
  deps: OverviewDeps,
  limits: OverviewLimits = { ...OVERVIEW_LIMITS },
): () => Promise<Overview> {
  const { config, redis } = deps;
  const keys = keysFor(config.prefix);
  const now = deps.now ?? (() => new Date());
  let rules: RulesFor | undefined;
  return async () => {
    rules ??= breakerRules(config);
    const at = now();
    const counts = await redis
      .pipeline()
      .zcard(keys.statusIndex)
      .zcard(keys.holdsIndex)
      .zcard(keys.breakerIndex)
      .zcard(keys.windowIndex)
      .exec();
    const [statusCount = 0, heldCount = 0, breakerCount = 0, windowCount = 0] = (counts ?? []).map(
      ([err, n]) => {
        if (err) throw err;
        return Number(n);
      },
    );
    const heldIds = await listHeldAccounts(redis, keys, limits.accounts);
    const { accounts, unrecorded: notIndexed } = await readAccounts(
      redis,
      keys,
      limits.accounts,
      heldIds,
    );
    const [breakers, views, failed, windowFailures, webhooks] = await Promise.all([
      readBreakers(redis, keys, rules, limits.breakers, accounts, at),
      deps.windows ? deps.windows.list(limits.windows) : Promise.resolve(undefined),
      readFailures(redis, keys, limits.failures, limits.events_scanned),
      readWindowFailures(redis, keys, limits.failures, limits.events_scanned),
      readWebhookStats(redis, keys, limits.webhook_events),
    ]);
    const split = views ? splitWindows(views, at) : { running: [], upcoming: [] };
    // Held accounts without a recorded status are not in the status index. The count was read
    // before the accounts: an outcome recorded in between moves an account from `notIndexed`
    // into the index after it was counted, so never show fewer than the accounts listed.
    const accountTotal = Math.max(statusCount + notIndexed, accounts.length);
    const held = accounts.filter((a) => a.holds.length > 0);
    return {
      generated_at: at.toISOString(),
      limits,
      totals: {
        accounts: accountTotal,
        held: heldCount,
        held_off: held.filter((a) => a.is_active === false).length,
        held_still_on: held.filter((a) => a.still_on).length,
        breakers: Math.max(breakerCount, breakers.length),
        windows: windowCount,
      },
      truncated: {
        accounts: accountTotal > accounts.length || heldCount > heldIds.length,
        breakers: breakerCount > breakers.length,
        windows: windowCount > limits.windows,
      },
      accounts,
      breakers,
      windows: { available: deps.windows !== undefined, ...split },
      failures: failed.failures,
      failures_scanned: failed.scanned,
      window_failures: windowFailures,
      webhooks,
      can_reset_breakers: deps.breakerRoutes,
    };
  };
}
