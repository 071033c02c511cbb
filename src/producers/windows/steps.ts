/**
 * A window's two steps, run by the worker side (the windows queue, queue/window-queue.ts, calls
 * them): at an occurrence's start, read what the accounts are, hold every one off (hold
 * `window:<id>:<occurrence>`) and ask the active ones off; at its end, release the holds and ask
 * back on exactly the accounts whose last hold that was and that were on before the first. Each
 * is idempotent and records what it decided before acting on it, so a step run twice changes
 * nothing twice.
 */
import {
  windowActor,
  type IntentInput,
  type WindowEndedEvent,
  type WindowFailedEvent,
  type WindowSkippedEvent,
  type WindowStartedEvent,
} from '../../model.js';
import { encodeEvent } from '../../store/event-codec.js';
import type { HoldInput } from '../../store/hold-record.js';
import {
  holdForOccurrence,
  releaseForOccurrence,
  type TargetRead,
} from '../../store/window-holds.js';
import {
  beginOccurrence,
  markEnded,
  markStarted,
  readOccurrence,
  skipOccurrence,
  type OccurrenceRef,
  type StartDecision,
} from '../../store/window-occurrence.js';
import { readWindowRecord } from '../../store/window-record.js';
import { occurrenceId, type WindowSchedule, type WindowTargets } from './spec.js';
import { endKey, endKeyAround, windowHoldId, windowKey } from './step-ids.js';
import { readTargets } from './targets.js';
import type { EndResult, StartResult, Windows, WindowsDeps } from './types.js';

/** Accounts per hold step and per enqueue chunk. */
const CHUNK = 500;

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
    account_ids: [...ids].sort(),
    why,
    actor: event.actor,
    at: event.at,
  };
  return [encodeEvent(event), encodeEvent(failed)];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function windowSteps(deps: WindowsDeps): Pick<Windows, 'start' | 'end'> {
  const { redis, keys, producer, scheduler } = deps;
  const now = deps.now ?? (() => new Date());
  const iso = (ms: number) => new Date(ms).toISOString();

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
        actor: windowActor(windowId),
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
    const reads = pastEnd ? [] : await readTargets(deps, windowId, w.targets);
    const hold: HoldInput = {
      id: windowHoldId(windowId, occurrence),
      source: 'window',
      ref: `${windowId}:${occurrence}`,
      reason: w.reason || `maintenance window ${windowId}`,
      actor: windowActor(windowId),
    };
    const switched: string[] = [];
    const alreadyOff: string[] = [];
    const missing: string[] = [];
    const sort = (id: string, d: StartDecision) =>
      (d === 'switch_off' ? switched : d === 'already_off' ? alreadyOff : missing).push(id);
    for (const part of chunks(reads, CHUNK)) {
      const decided = await holdForOccurrence(redis, keys, ref, part, hold, now());
      if (!decided) return { result: 'already' };
      decided.forEach((d, i) => sort((part[i] as TargetRead).accountId, d));
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
      (tooLate ? [] : switched).map((accountId) => ({
        action: 'deactivate',
        accountId,
        idempotencyKey: windowKey(windowId, occurrence, accountId),
        source: 'window',
        sourceRef: `${windowId}:${occurrence}`,
        reason: hold.reason,
        actor: windowActor(windowId),
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
      actor: windowActor(windowId),
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
    const stillHeld: { account_id: string; held_by: string[] }[] = [];
    for (const [id, d] of decisions) {
      if (d.do === 'reactivate') reactivated.push(id);
      else if (d.do === 'off') stayedOff.push(id);
      else if (d.do === 'unknown') baseUnknown.push(id);
      else if (d.do === 'held') stillHeld.push({ account_id: id, held_by: d.heldBy });
      else if (d.do === 'conflict') conflicts.push(id);
      else gone.push(id);
    }
    const w = await readWindowRecord<WindowTargets, WindowSchedule>(redis, keys, windowId);
    await enqueue(
      reactivated.map((accountId) => ({
        action: 'activate',
        accountId,
        idempotencyKey: endKey(windowId, occurrence, accountId),
        source: 'window',
        sourceRef: `${windowId}:${occurrence}`,
        reason: `end of ${w?.reason || `maintenance window ${windowId}`}`,
        actor: windowActor(windowId),
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
      still_held: stillHeld.sort((a, b) => a.account_id.localeCompare(b.account_id)),
      stayed_off: stayedOff.sort(),
      base_unknown: baseUnknown.sort(),
      gone: [...gone, ...conflicts].sort(),
      cancelled: w?.state === 'cancelled' && at.getTime() < Date.parse(o.ends_at),
      actor: windowActor(windowId),
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

  return { start, end };
}
