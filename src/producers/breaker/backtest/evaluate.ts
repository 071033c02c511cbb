/**
 * The breaker's rules as a pure function of a signal sequence: the twin of the Lua step
 * `countAndTrip` (store/breaker-trip.ts) and of the timed steps (store/breaker-tick.ts), for
 * `breaker backtest`. Change one, change the other: test/integration/breaker-backtest-twin.test.ts
 * feeds one generated sequence to the live breaker (real Redis) and to this evaluator and
 * expects the same trips and warnings.
 *
 * Per counted signal, as the Lua step does it:
 * - older than the account's window before `now`: stale, not counted (and not marked seen);
 * - an id counted before (any account, within the dedupe ttl): a duplicate, nothing else;
 * - the count goes to minute min(floor(now/60s), floor(occurredAt/60s));
 * - an open breaker does nothing more; otherwise the window (the windowMin minutes ending at
 *   now's) is summed and the rules read, trip level first (bounce, then complaints), then the
 *   warning level (at most one `warned` per window of time).
 * A trip opens the breaker; with a cooldown it goes half-open when that runs out (the window
 * starts afresh), a trip while half-open doubles the cooldown (up to the longest), and half-open
 * closes after the watch without a trip. The timed steps happen here exactly when due; a live
 * server takes them within a second (its tick). Every account is taken as mode `act`: a trip is
 * what the rules would do if acting (the live breaker in `warn`/`watch` records `would_trip`).
 *
 * Per signal: O(1) amortised (a ring of minute buckets per account, with running sums); no
 * allocation but the dedupe entry and, on a trip or a warning, its record.
 */
import type { BreakerNumbers } from '../../../model.js';
import type { BreakerRules, RulesFor } from '../rules.js';

/** What a signal counts as, by index (the order of COUNTS in store/breaker-state.ts). */
export const KIND = {
  delivered: 0,
  hard_bounced: 1,
  soft_bounced: 2,
  complained: 3,
  rejected: 4,
} as const;
export type KindIndex = (typeof KIND)[keyof typeof KIND];

export type RuleReason = 'bounce_rate' | 'complaint_rate';

/** A rule crossed: when, which, and the window's numbers (as the `breaker.tripped` event has them). */
export interface Crossing {
  at: number;
  reason: RuleReason;
  numbers: BreakerNumbers;
}

export interface EvaluatorSettings {
  /** BREAKER_COOLDOWN_S; 0: a trip stays open (until an operator's reset, which a replay cannot know). */
  cooldownS: number;
  cooldownMaxS: number;
  halfOpenWatchS: number;
  /** SIGNAL_DEDUPE_TTL_S, in the replay's time. */
  dedupeTtlS: number;
}

export type StepResult = 'stale' | 'duplicate' | 'counted' | 'open' | 'tripped' | 'warned';

type State = 'closed' | 'open' | 'half_open';

const MINUTE = 60_000;
const NONE = -1;

/** One account's breaker in the replay. */
export class AccountRun {
  readonly rules: BreakerRules;
  readonly trips: Crossing[] = [];
  readonly warnings: Crossing[] = [];
  counted = 0;
  stale = 0;
  duplicates = 0;
  state: State = 'closed';
  private readonly windowMin: number;
  private readonly windowMs: number;
  /** Minute of each ring slot (NONE: empty), and its 5 counts. */
  private readonly slotMinute: Float64Array;
  private readonly slotCounts: Float64Array;
  /** Sums over the window ending at `minute` (the last now seen). */
  private readonly sums = new Float64Array(5);
  private minute = NONE;
  private cooldownS = 0;
  private openUntil = NONE;
  private halfOpenAt = NONE;
  private warnedAt = NONE;

  constructor(
    readonly accountId: string,
    rules: BreakerRules,
    private readonly settings: EvaluatorSettings,
  ) {
    this.rules = rules;
    this.windowMin = Math.max(1, Math.ceil(rules.windowS / 60));
    this.windowMs = rules.windowS * 1000;
    this.slotMinute = new Float64Array(this.windowMin).fill(NONE);
    this.slotCounts = new Float64Array(this.windowMin * 5);
  }

  /** Is a signal that happened at `occurredMs` stale at `nowMs` (not counted)? */
  isStale(occurredMs: number, nowMs: number): boolean {
    return occurredMs < nowMs - this.windowMs;
  }

  /** Take the timed steps due by `nowMs`, at the times they are due. */
  private tick(nowMs: number): void {
    if (this.state === 'open' && this.openUntil !== NONE && this.openUntil <= nowMs) {
      // Half-open: the window starts afresh (breaker-reset.ts releaseTripLua).
      this.state = 'half_open';
      this.halfOpenAt = this.openUntil;
      this.openUntil = NONE;
      this.clear();
    }
    if (
      this.state === 'half_open' &&
      this.halfOpenAt + this.settings.halfOpenWatchS * 1000 <= nowMs
    ) {
      this.state = 'closed';
      this.halfOpenAt = NONE;
      this.cooldownS = 0;
    }
  }

  private clear(): void {
    this.slotMinute.fill(NONE);
    this.slotCounts.fill(0);
    this.sums.fill(0);
  }

  /** Move the window's end to minute `m` (never back): minutes falling out leave the sums. */
  private advance(m: number): void {
    if (m <= this.minute) return;
    const w = this.windowMin;
    if (this.minute === NONE || m - this.minute >= w) {
      this.clear();
    } else {
      for (let gone = this.minute - w + 1; gone <= m - w; gone++) this.drop(gone);
    }
    this.minute = m;
  }

  private drop(minute: number): void {
    const slot = ((minute % this.windowMin) + this.windowMin) % this.windowMin;
    if (this.slotMinute[slot] !== minute) return;
    const base = slot * 5;
    for (let k = 0; k < 5; k++) {
      this.sums[k] = (this.sums[k] ?? 0) - (this.slotCounts[base + k] ?? 0);
      this.slotCounts[base + k] = 0;
    }
    this.slotMinute[slot] = NONE;
  }

  /** Count one signal (not stale, not a duplicate: the caller checked) and read the rules. */
  count(kind: KindIndex, occurredMs: number, nowMs: number): StepResult {
    this.tick(nowMs);
    this.counted++;
    const nowMinute = Math.floor(nowMs / MINUTE);
    this.advance(nowMinute);
    const bucket = Math.min(nowMinute, Math.floor(occurredMs / MINUTE));
    // A minute before the window is never read again: the window only moves forward.
    if (bucket > nowMinute - this.windowMin) {
      const slot = bucket % this.windowMin;
      this.slotMinute[slot] = bucket;
      this.slotCounts[slot * 5 + kind] = (this.slotCounts[slot * 5 + kind] ?? 0) + 1;
      this.sums[kind] = (this.sums[kind] ?? 0) + 1;
    }
    if (this.state === 'open') return 'open';
    const s = this.sums;
    const delivered = s[0] ?? 0;
    const hard = s[1] ?? 0;
    const volume = delivered + hard + (s[2] ?? 0);
    const complained = s[3] ?? 0;
    const r = this.rules;
    const bounceOk = volume > 0 && volume >= r.bounceMinVolume;
    const complaintOk = delivered > 0 && delivered >= r.complaintMinVolume;
    let reason: RuleReason | undefined;
    if (bounceOk && hard / volume >= r.bounceRate) reason = 'bounce_rate';
    else if (complaintOk && complained / delivered >= r.complaintRate) reason = 'complaint_rate';
    if (reason !== undefined) {
      this.trip(reason, nowMs);
      return 'tripped';
    }
    let warn: RuleReason | undefined;
    if (bounceOk && hard / volume >= r.bounceWarnRate) warn = 'bounce_rate';
    else if (complaintOk && complained / delivered >= r.complaintWarnRate) warn = 'complaint_rate';
    // Once per window (of whole minutes, as the Lua step reads it).
    const again = this.warnedAt === NONE || nowMs - this.warnedAt >= this.windowMin * MINUTE;
    if (warn !== undefined && again) {
      this.warnedAt = nowMs;
      this.warnings.push({ at: nowMs, reason: warn, numbers: this.numbers() });
      return 'warned';
    }
    return 'counted';
  }

  private trip(reason: RuleReason, nowMs: number): void {
    const { cooldownS, cooldownMaxS } = this.settings;
    if (cooldownS > 0) {
      this.cooldownS =
        this.state === 'half_open'
          ? Math.min((this.cooldownS || cooldownS) * 2, cooldownMaxS)
          : cooldownS;
      this.openUntil = nowMs + this.cooldownS * 1000;
    } else {
      this.cooldownS = 0;
      this.openUntil = NONE;
    }
    this.halfOpenAt = NONE;
    this.state = 'open';
    this.trips.push({ at: nowMs, reason, numbers: this.numbers() });
  }

  /** The window's numbers as the Lua step writes them (rates to 6 significant digits). */
  private numbers(): BreakerNumbers {
    const s = this.sums;
    const [delivered = 0, hard = 0, soft = 0, complained = 0, rejected = 0] = s;
    const volume = delivered + hard + soft;
    return {
      window_s: this.windowMin * 60,
      delivered,
      bounced: hard + soft,
      hard_bounced: hard,
      complained,
      rejected,
      bounce_rate: volume > 0 ? g6(hard / volume) : null,
      complaint_rate: delivered > 0 ? g6(complained / delivered) : null,
    };
  }
}

/** Lua's string.format('%.6g', x), read back as a number. */
function g6(x: number): number {
  return Number(x.toPrecision(6));
}

/** Every account's breaker under one rule set, fed signals in time order. */
export class Evaluator {
  private readonly runs = new Map<string, AccountRun>();
  /** Signal ids counted within the dedupe ttl... */
  private readonly seen = new Set<string>();
  /** ...and the same ids in the order counted, with when: a queue expired from `head`. */
  private seenIds: string[] = [];
  private seenAt: number[] = [];
  private head = 0;
  private lastNow = -Infinity;

  constructor(
    private readonly rulesFor: RulesFor,
    private readonly settings: EvaluatorSettings,
  ) {}

  /** The account's run (made on first use). */
  account(accountId: string): AccountRun {
    let run = this.runs.get(accountId);
    if (run === undefined) {
      run = new AccountRun(accountId, this.rulesFor(accountId), this.settings);
      this.runs.set(accountId, run);
    }
    return run;
  }

  /**
   * One signal at `nowMs` (never before the previous one's: sort first). `signalId` '' skips the
   * dedupe.
   */
  step(
    run: AccountRun,
    kind: KindIndex,
    signalId: string,
    occurredMs: number,
    nowMs: number,
  ): StepResult {
    if (nowMs < this.lastNow) {
      throw new Error(`backtest: signals out of time order (${nowMs} after ${this.lastNow})`);
    }
    this.lastNow = nowMs;
    if (run.isStale(occurredMs, nowMs)) {
      run.stale++;
      return 'stale';
    }
    if (signalId !== '') {
      this.expireSeen(nowMs);
      if (this.seen.has(signalId)) {
        run.duplicates++;
        return 'duplicate';
      }
      this.seen.add(signalId);
      this.seenIds.push(signalId);
      this.seenAt.push(nowMs);
    }
    return run.count(kind, occurredMs, nowMs);
  }

  /** Forget the ids counted longer than the dedupe ttl ago (Redis's SET EX). */
  private expireSeen(nowMs: number): void {
    const expired = nowMs - this.settings.dedupeTtlS * 1000;
    const at = this.seenAt;
    let head = this.head;
    while (head < at.length && (at[head] ?? Infinity) <= expired) {
      this.seen.delete(this.seenIds[head] ?? '');
      head++;
    }
    // Drop the expired front now and then: the queue's memory follows what is remembered.
    if (head > 65_536 && head * 2 > at.length) {
      this.seenIds = this.seenIds.slice(head);
      this.seenAt = at.slice(head);
      head = 0;
    }
    this.head = head;
  }

  /** The accounts seen, in first-seen order. */
  accounts(): IterableIterator<AccountRun> {
    return this.runs.values();
  }
}
