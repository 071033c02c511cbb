/**
 * The bounce-spike breaker as a producer: signals in, at most one deactivate intent per trip
 * out (source `breaker`, `source_ref` = the trip id, key `breaker:<account>:<trip id>`), put at
 * the head of the queue so that a trip never waits behind a bulk run's backlog. Counting,
 * deciding and the state change are one Lua step (store/breaker-trip.ts): several servers
 * seeing one spike trip it once. A reset releases only the breaker's hold and asks for the
 * account back only if nothing else holds it off (store/breaker-reset.ts).
 */
import { countBreakerTrip, countBreakerWarning } from '../../metrics/metrics.js';
import {
  BREAKER_ACTOR,
  type BreakerMode,
  type BreakerNumbers,
  type IntentInput,
} from '../../model.js';
import type { Producer } from '../../queue/enqueue.js';
import type { RedisClient as Redis } from '../../redis/connect.js';
import {
  readBreakerModes,
  readEffectiveMode,
  setBreakerMode,
  type EffectiveMode,
  type ModeChange,
} from '../../store/breaker-mode.js';
import { resetBreaker, type ResetResult } from '../../store/breaker-reset.js';
import {
  activationsNotEnqueued,
  breakersDue,
  listBreakerAccounts,
  markActivationEnqueued,
  markTripEnqueued,
  readBreaker,
  readWindow,
  tripsNotEnqueued,
  type BreakerRecord,
} from '../../store/breaker-state.js';
import { tickBreaker } from '../../store/breaker-tick.js';
import { countTripInRedis } from '../../store/breaker-trip-count.js';
import { countAndTrip, type TripResult } from '../../store/breaker-trip.js';
import { readHolds, type AccountHolds } from '../../store/holds.js';
import type { Keys } from '../../store/keys.js';
import type { RulesFor } from './rules.js';
import { countKind, parseSignal } from './signals.js';

export interface BreakerDeps {
  redis: Redis;
  keys: Keys;
  producer: Producer;
  rules: RulesFor;
  dedupeTtlS: number;
  eventsMaxLen: number;
  /** After a trip, go half-open by itself after this long; 0 or omitted: open until reset. */
  cooldownS?: number;
  /** A trip while half-open doubles the cooldown, up to this. @defaultValue 86_400 */
  cooldownMaxS?: number;
  /** A half-open breaker closes after this long without a trip. @defaultValue 900 */
  halfOpenWatchS?: number;
  now?: () => Date;
}

export type SignalResult = TripResult | { result: 'stale' };

export interface BreakerStatus extends BreakerRecord {
  /** What a crossing of the trip level does now, and where that comes from. */
  mode: EffectiveMode;
  /** A `breaker.warned` / `breaker.would_trip` said within the window ending now (the latest). */
  warning: 'warned' | 'would_trip' | null;
  /** The counts and rates over the window ending now. */
  window: BreakerNumbers;
  holds: AccountHolds;
}

/** The run-time modes and the settings' ones, as `breaker mode` shows them. */
export interface BreakerModes {
  default: { mode: BreakerMode; from: 'runtime' | 'settings'; settings: BreakerMode };
  /** Accounts with a mode of their own (run-time or in the settings), by id. */
  accounts: { account_id: string; mode: BreakerMode; from: 'runtime' | 'settings' }[];
}

export interface Breaker {
  /**
   * Count a signal (validated: IntentValidationError names the field); trips the breaker when
   * a rule crosses, and then enqueues the deactivation. A signal older than the window is
   * `stale` and not counted.
   */
  signal(input: unknown): Promise<SignalResult>;
  /**
   * An operator's trip, whatever the numbers; `open` when it is open already. `actor`: who
   * asked (the hold, the event and the deactivation say so; model/actor.ts).
   */
  trip(accountId: string, reason?: string, actor?: string): Promise<TripResult>;
  /** Close an open breaker; `not_open` when it is not open. `actor`: who (`breaker.reset`). */
  reset(accountId: string, actor?: string): Promise<ResetResult>;
  status(accountId: string): Promise<BreakerStatus>;
  /** Accounts with breaker activity, most recent first. */
  list(limit?: number): Promise<string[]>;
  /**
   * Set (or clear: null) the run-time mode of an account, or the default's (`accountId` null);
   * the next crossing in every process reads it. `actor`: who (`breaker.mode_changed`).
   */
  setMode(
    accountId: string | null,
    mode: BreakerMode | null,
    actor: string | null,
  ): Promise<ModeChange>;
  /** The default mode and every account with one of its own. */
  modes(): Promise<BreakerModes>;
  /**
   * Enqueue what a crash left unenqueued: a trip's deactivation, a reset's or half-open step's
   * activation (same keys: never twice); resolves with how many.
   */
  recover(): Promise<number>;
  /**
   * Take the timed steps that are due (open past its cooldown -> half-open, asking for the
   * account back like a reset; half-open watched without a trip -> closed). Servers call it
   * every second or so; several at once do each step once.
   */
  tick(): Promise<{ halfOpen: string[]; closed: string[] }>;
}

/**
 * The latest warning said within the window ending at `nowMs`, if any; with `watching: false`,
 * one said while watching does not count (watching is silent but for its events).
 */
export function currentWarning(
  record: Pick<BreakerRecord, 'last_warning' | 'last_would_trip'>,
  windowS: number,
  nowMs: number,
  options: { watching?: boolean } = {},
): 'warned' | 'would_trip' | null {
  const since = nowMs - windowS * 1000;
  const at = (w: BreakerRecord['last_warning']) =>
    w && (options.watching !== false || w.mode !== 'watch') ? Date.parse(w.at) : -Infinity;
  const warned = at(record.last_warning);
  const would = at(record.last_would_trip);
  // As the trip step: one said `windowS` ago or more is of a past window.
  if (Math.max(warned, would) <= since) return null;
  return would >= warned ? 'would_trip' : 'warned';
}

export function createBreaker(deps: BreakerDeps): Breaker {
  const { redis, keys, producer } = deps;
  const now = deps.now ?? (() => new Date());
  const settings = (accountId: string) => ({
    rules: deps.rules(accountId),
    dedupeTtlS: deps.dedupeTtlS,
    eventsMaxLen: deps.eventsMaxLen,
    cooldownS: deps.cooldownS ?? 0,
    cooldownMaxS: deps.cooldownMaxS ?? 86_400,
  });
  const watchS = deps.halfOpenWatchS ?? 900;

  async function enqueueActivate(
    accountId: string,
    tripId: string,
    key: string,
    why: string,
    actor: string = BREAKER_ACTOR,
  ) {
    await producer.enqueueMany(
      [
        {
          action: 'activate',
          accountId,
          idempotencyKey: key,
          source: 'breaker',
          sourceRef: tripId,
          reason: `${why} after trip ${tripId}`,
          actor,
        },
      ],
      { urgent: true },
    );
    await markActivationEnqueued(redis, keys, accountId, key);
  }

  async function enqueueTrip(
    accountId: string,
    tripId: string,
    key: string,
    actor: string,
  ): Promise<void> {
    const intent: IntentInput = {
      action: 'deactivate',
      accountId,
      idempotencyKey: key,
      source: 'breaker',
      sourceRef: tripId,
      reason: `breaker trip ${tripId}`,
      actor,
    };
    await producer.enqueueMany([intent], { urgent: true });
    await markTripEnqueued(redis, keys, accountId, tripId);
  }

  async function afterTrip(
    accountId: string,
    r: TripResult,
    actor: string = BREAKER_ACTOR,
  ): Promise<TripResult> {
    if (r.result === 'warned' || r.result === 'would_trip') {
      countBreakerWarning(r.result, r.reason, r.mode);
      return r;
    }
    if (r.result !== 'tripped') return r;
    countBreakerTrip(r.reason);
    await enqueueTrip(accountId, r.tripId, r.idempotencyKey, actor);
    // The deployment's count, read by every serving process at scrape time. A metric: once the
    // trip and its deactivation are in, a failure here does not fail the trip (this process's
    // own counter has it).
    await countTripInRedis(redis, keys, r.reason).catch(() => undefined);
    return r;
  }

  return {
    async signal(input) {
      const s = parseSignal(input);
      const at = now();
      const occurredAt = new Date(s.occurred_at);
      const rules = deps.rules(s.account_id);
      if (occurredAt.getTime() < at.getTime() - rules.windowS * 1000) return { result: 'stale' };
      const r = await countAndTrip(
        redis,
        keys,
        { accountId: s.account_id, kind: countKind(s), signalId: s.id, occurredAt },
        settings(s.account_id),
        at,
      );
      return afterTrip(s.account_id, r);
    },
    async trip(accountId, reason, actor) {
      const r = await countAndTrip(
        redis,
        keys,
        { accountId, force: true, reason: reason ?? 'manual trip', actor },
        settings(accountId),
        now(),
      );
      return afterTrip(accountId, r, actor);
    },
    async reset(accountId, actor) {
      const r = await resetBreaker(
        redis,
        keys,
        accountId,
        { windowS: deps.rules(accountId).windowS, eventsMaxLen: deps.eventsMaxLen },
        now(),
        actor ?? null,
      );
      if (r.result === 'reset' && r.activateKey) {
        await enqueueActivate(accountId, r.tripId, r.activateKey, 'breaker reset', actor);
      }
      return r;
    },
    async status(accountId) {
      const rules = deps.rules(accountId);
      const at = now().getTime();
      const [record, window, holds, mode] = await Promise.all([
        readBreaker(redis, keys, accountId),
        readWindow(redis, keys, accountId, rules.windowS, at),
        readHolds(redis, keys, accountId),
        readEffectiveMode(redis, keys, accountId, rules),
      ]);
      return { ...record, mode, warning: currentWarning(record, rules.windowS, at), window, holds };
    },
    setMode: (accountId, mode, actor) =>
      setBreakerMode(redis, keys, accountId, mode, actor, deps.eventsMaxLen, now()),
    async modes() {
      const runtime = await readBreakerModes(redis, keys);
      // An id no account has: the global rules (BREAKER_MODE).
      const fallback = deps.rules('');
      const own = new Map<string, { mode: BreakerMode; from: 'runtime' | 'settings' }>();
      for (const id of deps.rules.accounts ?? []) {
        const r = deps.rules(id);
        if (r.ownMode) own.set(id, { mode: r.mode, from: 'settings' });
      }
      for (const [id, mode] of Object.entries(runtime.accounts))
        own.set(id, { mode, from: 'runtime' });
      return {
        default: runtime.default
          ? { mode: runtime.default, from: 'runtime', settings: fallback.mode }
          : { mode: fallback.mode, from: 'settings', settings: fallback.mode },
        accounts: [...own.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([account_id, m]) => ({ account_id, ...m })),
      };
    },
    list: (limit) => listBreakerAccounts(redis, keys, limit),
    async tick() {
      const at = now();
      const out = { halfOpen: [] as string[], closed: [] as string[] };
      for (const accountId of await breakersDue(redis, keys, at.getTime())) {
        const r = await tickBreaker(
          redis,
          keys,
          accountId,
          { windowS: deps.rules(accountId).windowS, watchS, eventsMaxLen: deps.eventsMaxLen },
          at,
        );
        if (r.result === 'half_open') {
          out.halfOpen.push(accountId);
          if (r.activateKey) {
            await enqueueActivate(accountId, r.tripId, r.activateKey, 'breaker half-open');
          }
        } else if (r.result === 'closed') {
          out.closed.push(accountId);
        }
      }
      return out;
    },
    async recover() {
      const lost = await tripsNotEnqueued(redis, keys);
      for (const { accountId, tripId } of lost) {
        const record = await readBreaker(redis, keys, accountId);
        const key = record.last_trip?.idempotency_key;
        if (record.last_trip?.trip_id === tripId && key) {
          // Who tripped it, as its hold says (a manual trip's operator, else the breaker).
          const held = (await readHolds(redis, keys, accountId)).holds.find(
            (h) => h.id === 'breaker',
          );
          await enqueueTrip(accountId, tripId, key, held?.actor ?? BREAKER_ACTOR);
        }
      }
      const activations = await activationsNotEnqueued(redis, keys);
      for (const { accountId, tripId, activateKey } of activations) {
        await enqueueActivate(accountId, tripId, activateKey, 'breaker recovery');
      }
      return lost.length + activations.length;
    },
  };
}
