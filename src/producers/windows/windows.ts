/**
 * Maintenance windows as a producer: at each occurrence's start, read what the accounts are,
 * hold every one off (hold `window:<id>:<occurrence>`) and ask the active ones off (source
 * `window`, key `window:<id>:<occurrence>:<account>`); at its end, release the holds and
 * ask back on exactly the accounts whose last hold that was and that were on before the first
 * (key `...:<account>:end`). The steps run from the windows queue (queue/window-queue.ts);
 * each is idempotent and records what it decided before acting on it, so a step run twice
 * (two processes, a crash, a duplicated scheduler job) changes nothing twice.
 */
import { randomBytes } from 'node:crypto';
import { NotFoundError, StateConflictError, UsageError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type {
  IntentInput,
  WindowEndedEvent,
  WindowFailedEvent,
  WindowSkippedEvent,
  WindowStartedEvent,
} from '../../model.js';
import type { Producer } from '../../queue/producer.js';
import type { WindowScheduler } from '../../queue/window-queue.js';
import type { RedisClient as Redis } from '../../redis.js';
import type { ProviderItem } from '../../sendmux/schemas.js';
import { encodeEvent } from '../../store/event-codec.js';
import { seenOf, type HoldInput } from '../../store/holds.js';
import type { Keys } from '../../store/keys.js';
import {
  beginOccurrence,
  holdForOccurrence,
  listOccurrences,
  markEnded,
  markStarted,
  readOccurrence,
  releaseForOccurrence,
  setOccurrenceEnd,
  skipOccurrence,
  type OccurrenceRecord,
  type OccurrenceRef,
  type StartDecision,
  type TargetRead,
} from '../../store/window-occurrence.js';
import {
  cancelWindowRecord,
  createWindowRecord,
  dropWindowRecord,
  listWindowIds,
  readWindowRecord,
  setWindowSchedule,
  type WindowRecord,
} from '../../store/window-record.js';
import {
  listWithRetry,
  readEachWithRetry,
  READ_ONE_BY_ONE,
  type AccountReader,
  type RetryOptions,
} from '../account-states.js';
import type { AccountLister } from '../bulk/accounts.js';
import {
  nextOccurrences,
  occurrenceId,
  parseTime,
  parseWindow,
  type WindowInput,
  type WindowSchedule,
  type WindowTargets,
} from './spec.js';

export type Window = WindowRecord<WindowTargets, WindowSchedule>;

export interface WindowView extends Window {
  /** The next starts (ISO), for a window still scheduled: up to 3. */
  next_starts: string[];
  /** Occurrences that began, newest first (up to 20). */
  occurrences: OccurrenceRecord[];
}

export interface WindowsDeps {
  redis: Redis;
  keys: Keys;
  producer: Producer;
  scheduler: WindowScheduler;
  /** Reads accounts at a start (through the rate budget); without it, starts fail. */
  reader?: AccountReader;
  /** Lists accounts for a `filter` window at its start. */
  lister?: AccountLister;
  eventsMaxLen: number;
  /** How a start retries failed reads of its accounts. */
  retry?: Omit<RetryOptions, 'signal'>;
  /**
   * Aborts a start's reads (their waits for the rate budget and between retries): a worker
   * that stops does not wait for a long start; the step runs again (it is idempotent).
   */
  signal?: AbortSignal;
  log?: Logger;
  now?: () => Date;
}

export type StartResult =
  | { result: 'started'; event: WindowStartedEvent }
  | { result: 'skipped'; event: WindowSkippedEvent | null }
  /** Another run began it (or it is over): nothing to do. */
  | { result: 'already' }
  | { result: 'no_window' | 'cancelled' };

export type EndResult =
  | { result: 'ended'; event: WindowEndedEvent }
  | { result: 'not_started' | 'already' | 'no_window' };

export interface WindowCancelResult {
  window_id: string;
  /**
   * `future`: nothing more will start (a one-off window not begun, a recurring one between
   * occurrences); `running`: its occurrence ended now; `over`: a one-off window that had run
   * its course; `cancelled`: cancelled before.
   */
  was: 'future' | 'running' | 'over' | 'cancelled';
  ended: string[];
}

export interface Windows {
  create(input: WindowInput): Promise<WindowView>;
  show(windowId: string): Promise<WindowView>;
  list(limit?: number): Promise<WindowView[]>;
  cancel(windowId: string): Promise<WindowCancelResult>;
  /** Move the end of a one-off window, or of a recurring window's running occurrence. */
  extend(windowId: string, endIso: string): Promise<WindowView>;
  /** The start step of the occurrence beginning at `startsMs` (the windows queue calls it). */
  start(windowId: string, startsMs: number): Promise<StartResult>;
  /** The end step of an occurrence. */
  end(windowId: string, occurrence: string): Promise<EndResult>;
  /** Put back what a lost schedule needs: schedulers, pending starts, running ends. */
  reconcile(): Promise<number>;
}

/** Accounts per hold step and per enqueue chunk. */
const CHUNK = 500;

export const windowHoldId = (windowId: string, occurrence: string) =>
  `window:${windowId}:${occurrence}`;
export const windowKey = (windowId: string, occurrence: string, providerId: string) =>
  `window:${windowId}:${occurrence}:${providerId}`;
/** The activation key of an occurrence's end, around the account id. */
const endKeyAround = (windowId: string, occurrence: string) =>
  [windowKey(windowId, occurrence, ''), ':end'] as const;
/** The activation key of an occurrence's end. */
export const endKey = (windowId: string, occurrence: string, providerId: string) => {
  const [head, tail] = endKeyAround(windowId, occurrence);
  return `${head}${providerId}${tail}`;
};

function endsOf(schedule: WindowSchedule, startsMs: number): number {
  return schedule.kind === 'once' ? schedule.endMs : startsMs + schedule.durationMs;
}

/** A step's event, and a `window.failed` one when it left `ids` in the wrong state. */
function stepEvents(
  event: WindowStartedEvent | WindowEndedEvent,
  step: WindowFailedEvent['step'],
  ids: readonly string[],
  why: string,
): string[] {
  if (ids.length === 0) return [encodeEvent(event)];
  const failed: WindowFailedEvent = {
    type: 'window.failed',
    window_id: event.window_id,
    occurrence: event.occurrence,
    step,
    provider_ids: [...ids].sort(),
    why,
    at: event.at,
  };
  return [encodeEvent(event), encodeEvent(failed)];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function createWindows(deps: WindowsDeps): Windows {
  const { redis, keys, producer, scheduler } = deps;
  const now = deps.now ?? (() => new Date());
  const iso = (ms: number) => new Date(ms).toISOString();

  async function mustRead(windowId: string): Promise<Window> {
    const w = await readWindowRecord<WindowTargets, WindowSchedule>(redis, keys, windowId);
    if (!w) throw new NotFoundError(`window "${windowId}": no such window`);
    return w;
  }

  async function view(w: Window): Promise<WindowView> {
    const ids = await listOccurrences(redis, keys, w.id, 20);
    const occurrences = (
      await Promise.all(
        ids.map((o) => readOccurrence(redis, keys, { windowId: w.id, occurrence: o })),
      )
    ).filter((o): o is OccurrenceRecord => o !== undefined);
    let next: number[] = [];
    if (w.state === 'scheduled') {
      if (w.schedule.kind === 'recurring') {
        next = nextOccurrences(w.schedule.cron, w.schedule.tz, now(), 3);
      } else if (occurrences.length === 0) {
        next = [w.schedule.startMs];
      }
    }
    return { ...w, next_starts: next.map(iso), occurrences };
  }

  /**
   * What each target account is now: a filter listed, explicit ids read one by one (or listed,
   * for many). Failed reads are retried with backoff through the rate budget; an account that
   * stays unreadable is still held and switched off (its base is then what the project last
   * recorded). A listing that keeps failing fails the step (it is retried): without it the
   * targets are not known.
   */
  async function readTargets(windowId: string, targets: WindowTargets): Promise<TargetRead[]> {
    const { signal } = deps;
    const retry = { ...deps.retry, signal };
    const seen = (item: ProviderItem): TargetRead => ({
      providerId: item.id,
      read: 'seen',
      seen: seenOf(item),
    });
    if (targets.kind === 'filter') {
      const lister = deps.lister;
      if (!lister) throw new Error('a filter window needs the API (SENDMUX_API_KEY)');
      return (await listWithRetry(() => lister.list(targets.filter, signal), retry)).map(seen);
    }
    const reader = deps.reader;
    if (!reader) throw new Error('starting a window needs the API (SENDMUX_API_KEY)');
    const ids = [...new Set(targets.ids)];
    if (ids.length > READ_ONE_BY_ONE) {
      const wanted = new Set(ids);
      const found = new Map<string, ProviderItem>();
      for (const item of await listWithRetry(() => reader.list(signal), retry)) {
        if (wanted.has(item.id)) found.set(item.id, item);
      }
      return ids.map((id) => {
        const item = found.get(id);
        return item ? seen(item) : { providerId: id, read: 'missing' };
      });
    }
    return (await readEachWithRetry(reader, ids, retry)).map((r) => {
      if (r.read === 'seen') return seen(r.item);
      if (r.read === 'unreadable') {
        deps.log?.warn(
          { window_id: windowId, provider_id: r.providerId, err: r.error },
          'a window target could not be read: it is held and switched off all the same',
        );
      }
      return { providerId: r.providerId, read: r.read };
    });
  }

  async function enqueue(intents: IntentInput[]): Promise<void> {
    for (const part of chunks(intents, CHUNK)) await producer.enqueueMany(part, { urgent: true });
  }

  async function start(windowId: string, startsMs: number): Promise<StartResult> {
    const w = await readWindowRecord<WindowTargets, WindowSchedule>(redis, keys, windowId);
    if (!w) return { result: 'no_window' };
    if (w.state === 'cancelled') return { result: 'cancelled' };
    const occurrence = occurrenceId(startsMs);
    const ref: OccurrenceRef = { windowId, occurrence };
    const endsMs = endsOf(w.schedule, startsMs);
    const o = { ...ref, startsMs, endsMs };
    if (now().getTime() >= endsMs) {
      const event: WindowSkippedEvent = {
        type: 'window.skipped',
        window_id: windowId,
        occurrence,
        starts_at: iso(startsMs),
        ends_at: iso(endsMs),
        reason: 'ended_before_start',
        at: now().toISOString(),
      };
      if (await skipOccurrence(redis, keys, o, encodeEvent(event), deps.eventsMaxLen, now())) {
        return { result: 'skipped', event };
      }
      // It exists: a start that crashed half-way carries on below and ends at once.
    }
    const state = await beginOccurrence(redis, keys, o, now());
    if (state === 'started') {
      // The end job may be what a crash lost (the occurrence keeps its end, extended or not).
      const current = await readOccurrence(redis, keys, ref);
      await scheduler.scheduleEnd(
        windowId,
        occurrence,
        Date.parse(current?.ends_at ?? iso(endsMs)),
      );
      return { result: 'already' };
    }
    if (state !== 'starting') return { result: 'already' };

    // A start that failed until its occurrence was over (the API down, say) reads nothing
    // more and switches nothing off: it closes what an earlier run recorded, and ends at once.
    const pastEnd = now().getTime() >= endsMs;
    const reads = pastEnd ? [] : await readTargets(windowId, w.targets);
    const hold: HoldInput = {
      id: windowHoldId(windowId, occurrence),
      source: 'window',
      ref: `${windowId}:${occurrence}`,
      reason: w.reason || `maintenance window ${windowId}`,
    };
    const switched: string[] = [];
    const alreadyOff: string[] = [];
    const missing: string[] = [];
    const sort = (id: string, d: StartDecision) =>
      (d === 'switch_off' ? switched : d === 'already_off' ? alreadyOff : missing).push(id);
    for (const part of chunks(reads, CHUNK)) {
      const decided = await holdForOccurrence(redis, keys, ref, part, hold, now());
      if (!decided) return { result: 'already' };
      decided.forEach((d, i) => sort((part[i] as TargetRead).providerId, d));
    }
    if (pastEnd) {
      for (const [id, d] of Object.entries((await readOccurrence(redis, keys, ref))?.start ?? {})) {
        sort(id, d);
      }
    }
    // Reading the accounts (through the rate budget) may outlast a short occurrence: then
    // nothing is switched off, the end comes at once, and a `window.failed` event says so.
    const tooLate = pastEnd || now().getTime() >= endsMs;
    await enqueue(
      (tooLate ? [] : switched).map((providerId) => ({
        action: 'deactivate',
        providerId,
        idempotencyKey: windowKey(windowId, occurrence, providerId),
        source: 'window',
        sourceRef: `${windowId}:${occurrence}`,
        reason: hold.reason,
      })),
    );
    const at = now();
    const event: WindowStartedEvent = {
      type: 'window.started',
      window_id: windowId,
      occurrence,
      starts_at: iso(startsMs),
      ends_at: iso(endsMs),
      late_ms: Math.max(0, at.getTime() - startsMs),
      switched_off: tooLate ? [] : switched.sort(),
      not_switched_off: tooLate ? switched.sort() : [],
      already_off: alreadyOff.sort(),
      missing: missing.sort(),
      at: at.toISOString(),
    };
    const moved = await markStarted(
      redis,
      keys,
      ref,
      stepEvents(
        event,
        'start',
        tooLate ? switched : [],
        'the occurrence was over before its accounts could be read and switched off: they were left on',
      ),
      deps.eventsMaxLen,
      at,
    );
    // Cancelled while starting: end it at once; extended while starting: its new end.
    const latest = await readWindowRecord(redis, keys, windowId);
    const recordedEnd = Date.parse((await readOccurrence(redis, keys, ref))?.ends_at ?? '');
    const endAt =
      latest?.state === 'cancelled' || tooLate
        ? at.getTime()
        : Number.isFinite(recordedEnd)
          ? recordedEnd
          : endsMs;
    await scheduler.scheduleEnd(windowId, occurrence, endAt);
    return moved ? { result: 'started', event } : { result: 'already' };
  }

  async function end(windowId: string, occurrence: string): Promise<EndResult> {
    const ref: OccurrenceRef = { windowId, occurrence };
    const o = await readOccurrence(redis, keys, ref);
    if (!o) return { result: 'no_window' };
    if (o.state === 'starting') return { result: 'not_started' };
    if (o.state !== 'started') return { result: 'already' };
    const decisions = await releaseForOccurrence(
      redis,
      keys,
      ref,
      windowHoldId(windowId, occurrence),
      endKeyAround(windowId, occurrence),
      now(),
    );
    if (!decisions) return { result: 'already' };
    // Asked back on by the holds model (its last hold, base `active`), even when this
    // occurrence's own start came too late to ask it off: another source may have switched it
    // off while this hold kept it, and an activation of an account that is on changes nothing.
    // The release bound the activations in its own step; enqueueing adds their jobs.
    const reactivated: string[] = [];
    const stayedOff: string[] = [];
    const baseUnknown: string[] = [];
    const gone: string[] = [];
    const conflicts: string[] = [];
    const stillHeld: { provider_id: string; held_by: string[] }[] = [];
    for (const [id, d] of decisions) {
      if (d.do === 'reactivate') reactivated.push(id);
      else if (d.do === 'off') stayedOff.push(id);
      else if (d.do === 'unknown') baseUnknown.push(id);
      else if (d.do === 'held') stillHeld.push({ provider_id: id, held_by: d.heldBy });
      else if (d.do === 'conflict') conflicts.push(id);
      else gone.push(id);
    }
    const w = await readWindowRecord<WindowTargets, WindowSchedule>(redis, keys, windowId);
    await enqueue(
      reactivated.map((providerId) => ({
        action: 'activate',
        providerId,
        idempotencyKey: endKey(windowId, occurrence, providerId),
        source: 'window',
        sourceRef: `${windowId}:${occurrence}`,
        reason: `end of ${w?.reason || `maintenance window ${windowId}`}`,
      })),
    );
    const at = now();
    const event: WindowEndedEvent = {
      type: 'window.ended',
      window_id: windowId,
      occurrence,
      starts_at: o.starts_at,
      ends_at: o.ends_at,
      reactivated: reactivated.sort(),
      still_held: stillHeld.sort((a, b) => a.provider_id.localeCompare(b.provider_id)),
      stayed_off: stayedOff.sort(),
      base_unknown: baseUnknown.sort(),
      gone: [...gone, ...conflicts].sort(),
      cancelled: w?.state === 'cancelled' && at.getTime() < Date.parse(o.ends_at),
      at: at.toISOString(),
    };
    const moved = await markEnded(
      redis,
      keys,
      ref,
      stepEvents(
        event,
        'end',
        conflicts,
        'the activation key is bound to another intent: not switched back on',
      ),
      deps.eventsMaxLen,
      event.cancelled,
      at,
    );
    return moved ? { result: 'ended', event } : { result: 'already' };
  }

  async function running(windowId: string): Promise<OccurrenceRecord[]> {
    const ids = await listOccurrences(redis, keys, windowId, 5);
    const records = await Promise.all(
      ids.map((occurrence) => readOccurrence(redis, keys, { windowId, occurrence })),
    );
    return records.filter(
      (o): o is OccurrenceRecord => o?.state === 'started' || o?.state === 'starting',
    );
  }

  return {
    async create(input) {
      const spec = parseWindow(input, now(), () => `w-${randomBytes(5).toString('hex')}`);
      if (spec.targets.kind === 'filter' && !deps.lister) {
        throw new UsageError(
          '--filter: needs the API to list accounts at each start (set SENDMUX_API_KEY)',
        );
      }
      const created = await createWindowRecord(redis, keys, spec, now());
      if (!created)
        throw new StateConflictError(`window "${spec.id}": a window with this id exists`);
      try {
        if (spec.schedule.kind === 'once') {
          await scheduler.scheduleStart(spec.id, spec.schedule.startMs);
        } else {
          await scheduler.scheduleRecurring(spec.id, spec.schedule.cron, spec.schedule.tz);
        }
      } catch (err) {
        await dropWindowRecord(redis, keys, spec.id).catch(() => undefined);
        throw err;
      }
      return view(await mustRead(spec.id));
    },
    show: async (windowId) => view(await mustRead(windowId)),
    async list(limit = 100) {
      const ids = await listWindowIds(redis, keys, limit);
      const out: WindowView[] = [];
      for (const id of ids) {
        const w = await readWindowRecord<WindowTargets, WindowSchedule>(redis, keys, id);
        if (w) out.push(await view(w));
      }
      return out;
    },
    async cancel(windowId) {
      const w = await mustRead(windowId);
      const before = await cancelWindowRecord(redis, keys, windowId, now());
      if (before === undefined) throw new NotFoundError(`window "${windowId}": no such window`);
      await scheduler.unschedule(
        windowId,
        w.schedule.kind === 'once' ? w.schedule.startMs : undefined,
      );
      const ended: string[] = [];
      for (const o of await running(windowId)) {
        if (o.state === 'started') {
          const r = await end(windowId, o.occurrence);
          if (r.result === 'ended') ended.push(o.occurrence);
        }
        // A start still running reads the cancel when it is done and ends at once.
      }
      const over =
        w.schedule.kind === 'once' && (await listOccurrences(redis, keys, windowId, 1)).length > 0;
      const was =
        before === 'cancelled'
          ? 'cancelled'
          : ended.length > 0
            ? 'running'
            : over
              ? 'over'
              : 'future';
      return { window_id: windowId, was, ended };
    },
    async extend(windowId, endIso) {
      const w = await mustRead(windowId);
      if (w.state === 'cancelled') {
        throw new StateConflictError(`window "${windowId}": cancelled; it cannot be extended`);
      }
      const endMs = parseTime('--end', endIso);
      if (endMs <= now().getTime()) {
        throw new UsageError(`--end: must be in the future (${endIso} has passed)`);
      }
      const [current] = await running(windowId);
      if (w.schedule.kind === 'once') {
        if (endMs <= w.schedule.startMs) {
          throw new UsageError(
            `--end: must be after the window's start (${iso(w.schedule.startMs)})`,
          );
        }
        if (!current && (await listOccurrences(redis, keys, windowId, 1)).length > 0) {
          throw new StateConflictError(`window "${windowId}": it is over; create a new one`);
        }
        await setWindowSchedule(redis, keys, windowId, { ...w.schedule, endMs });
      } else if (!current) {
        throw new StateConflictError(
          `window "${windowId}": no occurrence is running; --end moves a running occurrence's end`,
        );
      } else {
        const [nextStart] = nextOccurrences(w.schedule.cron, w.schedule.tz, now(), 1);
        if (nextStart !== undefined && endMs >= nextStart) {
          throw new UsageError(`--end: must be before the next occurrence (${iso(nextStart)})`);
        }
      }
      if (current) {
        const ref = { windowId, occurrence: current.occurrence };
        await setOccurrenceEnd(redis, keys, ref, endMs);
        if (current.state === 'started') {
          await scheduler.scheduleEnd(windowId, current.occurrence, endMs);
        }
      }
      return view(await mustRead(windowId));
    },
    start,
    end,
    async reconcile() {
      let fixed = 0;
      for (const id of await listWindowIds(redis, keys, 10_000)) {
        const w = await readWindowRecord<WindowTargets, WindowSchedule>(redis, keys, id);
        if (!w) continue;
        for (const o of await running(id)) {
          if (o.state === 'started') {
            await scheduler.scheduleEnd(id, o.occurrence, Date.parse(o.ends_at));
            fixed++;
          }
        }
        if (w.state !== 'scheduled') continue;
        if (w.schedule.kind === 'recurring') {
          if (!(await scheduler.hasRecurring(id))) {
            await scheduler.scheduleRecurring(id, w.schedule.cron, w.schedule.tz);
            fixed++;
          }
        } else if ((await listOccurrences(redis, keys, id, 1)).length === 0) {
          await scheduler.scheduleStart(id, w.schedule.startMs);
          fixed++;
        }
      }
      return fixed;
    },
  };
}
