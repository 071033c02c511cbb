/**
 * One occurrence of a maintenance window: the hash `<prefix>:window:<id>:o:<occurrence>`.
 *
 * ```
 * state       starting -> started -> ended, or skipped (it had ended before it could start)
 * starts_at ends_at (ms)   begun_at started_at ended_at (ms)   cancelled (1: ended early)
 * b:<account> what the start decided for it: switch_off | already_off | missing (written
 *             once, so a start run again after a crash decides the same)
 * e:<account> what the end did for it: reactivate | off | unknown | held:<hold ids JSON> |
 *             gone | conflict
 * ```
 *
 * Every step is one Lua script that checks the state first: several processes, or a step run
 * again after a crash, change nothing twice and put one event on the stream. The steps that
 * take and release the window's holds are in window-holds.ts.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import { EVENT_FIELD } from './event-codec.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';

export const OCCURRENCE_STATES = ['starting', 'started', 'ended', 'skipped'] as const;
export type OccurrenceState = (typeof OCCURRENCE_STATES)[number];

export interface OccurrenceRecord {
  window_id: string;
  occurrence: string;
  state: OccurrenceState;
  starts_at: string;
  ends_at: string;
  started_at: string | null;
  ended_at: string | null;
  cancelled: boolean;
  /** What the start decided for each target (see {@link StartDecision}). */
  start: Record<string, StartDecision>;
  /** What the end did, per account (after the end). */
  end: Record<string, EndDecision>;
}

export type EndDecision =
  | { do: 'reactivate' }
  | { do: 'off' }
  | { do: 'unknown' }
  | { do: 'held'; heldBy: string[] }
  | { do: 'gone' }
  | { do: 'conflict' };

/** What an occurrence's start decided for a target (kept as `b:<account>`, written once). */
export type StartDecision = 'switch_off' | 'already_off' | 'missing';

/** Reads a start decision; records of older versions kept what the account was. */
export function startDecisionOf(text: string): StartDecision {
  if (text === 'switch_off' || text === 'active') return 'switch_off';
  if (text === 'already_off' || text === 'inactive') return 'already_off';
  return 'missing';
}

// KEYS: occurrence, occurrences. ARGV: occurrence id, starts ms, ends ms, now ms, window id.
// Returns the state (a new occurrence is `starting`).
const beginScript = defineScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if state then return state end
redis.call('HSET', KEYS[1], 'window_id', ARGV[5], 'occurrence', ARGV[1], 'state', 'starting',
  'starts_at', ARGV[2], 'ends_at', ARGV[3], 'begun_at', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 'starting'
`);

export interface OccurrenceRef {
  windowId: string;
  occurrence: string;
}

function occKeys(keys: Keys, o: OccurrenceRef): [string, string] {
  return [keys.windowOccurrence(o.windowId, o.occurrence), keys.windowOccurrences(o.windowId)];
}

/** Begin an occurrence (once); answers its state: `starting` for one to carry on with. */
export async function beginOccurrence(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef & { startsMs: number; endsMs: number },
  now = new Date(),
): Promise<OccurrenceState> {
  return (await beginScript(redis, occKeys(keys, o), [
    o.occurrence,
    o.startsMs,
    o.endsMs,
    now.getTime(),
    o.windowId,
  ])) as OccurrenceState;
}

// KEYS: occurrence, occurrences, events. ARGV: occurrence id, starts ms, ends ms, now ms,
// window id, event JSON, events max length. Returns 1 when skipped now.
const skipScript = defineScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'window_id', ARGV[5], 'occurrence', ARGV[1], 'state', 'skipped',
  'starts_at', ARGV[2], 'ends_at', ARGV[3], 'ended_at', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', '${EVENT_FIELD}', ARGV[6])
return 1
`);

/** Record an occurrence that ended before it could start, with its event (once). */
export async function skipOccurrence(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef & { startsMs: number; endsMs: number },
  event: string,
  eventsMaxLen: number,
  now = new Date(),
): Promise<boolean> {
  const r = await skipScript(
    redis,
    [...occKeys(keys, o), keys.events],
    [o.occurrence, o.startsMs, o.endsMs, now.getTime(), o.windowId, event, eventsMaxLen],
  );
  return r === 1;
}

// KEYS: occurrence, events. ARGV: from state, to state, time field, now ms, max len, cancelled
// flag, then the events' JSON (one or more). Returns 1 when it moved (and the events went out).
const moveScript = defineScript(`
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], ARGV[3], ARGV[4])
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'cancelled', '1') end
for i = 7, #ARGV do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', '${EVENT_FIELD}', ARGV[i])
end
return 1
`);

/**
 * `starting` -> `started`, with the `window.started` event (and a `window.failed` one when
 * given); false when it was not starting.
 */
export async function markStarted(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef,
  events: readonly string[],
  eventsMaxLen: number,
  now = new Date(),
): Promise<boolean> {
  const r = await moveScript(
    redis,
    [keys.windowOccurrence(o.windowId, o.occurrence), keys.events],
    ['starting', 'started', 'started_at', now.getTime(), eventsMaxLen, '0', ...events],
  );
  return r === 1;
}

/** `started` -> `ended`, with the `window.ended` event (and a `window.failed` one when given). */
export async function markEnded(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef,
  events: readonly string[],
  eventsMaxLen: number,
  cancelled: boolean,
  now = new Date(),
): Promise<boolean> {
  const r = await moveScript(
    redis,
    [keys.windowOccurrence(o.windowId, o.occurrence), keys.events],
    ['started', 'ended', 'ended_at', now.getTime(), eventsMaxLen, cancelled ? '1' : '0', ...events],
  );
  return r === 1;
}

/** Reads an end decision (`e:<account>`). */
export function decisionOf(text: string): EndDecision {
  if (
    text === 'reactivate' ||
    text === 'off' ||
    text === 'gone' ||
    text === 'unknown' ||
    text === 'conflict'
  ) {
    return { do: text };
  }
  if (text.startsWith('held:')) {
    const ids = JSON.parse(text.slice(5)) as unknown;
    return { do: 'held', heldBy: Array.isArray(ids) ? (ids as string[]).sort() : [] };
  }
  return { do: 'gone' };
}

/** Move a started (or starting) occurrence's end. */
export async function setOccurrenceEnd(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef,
  endsMs: number,
): Promise<void> {
  await redis.hset(keys.windowOccurrence(o.windowId, o.occurrence), 'ends_at', endsMs);
}

const iso = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : null);

export async function readOccurrence(
  redis: Redis,
  keys: Keys,
  o: OccurrenceRef,
): Promise<OccurrenceRecord | undefined> {
  const h = await redis.hgetall(keys.windowOccurrence(o.windowId, o.occurrence));
  if (!h.state) return undefined;
  const start: Record<string, StartDecision> = {};
  const end: Record<string, EndDecision> = {};
  for (const [f, v] of Object.entries(h)) {
    if (f.startsWith('b:')) start[f.slice(2)] = startDecisionOf(v);
    else if (f.startsWith('e:')) end[f.slice(2)] = decisionOf(v);
  }
  return {
    window_id: o.windowId,
    occurrence: o.occurrence,
    state: h.state as OccurrenceState,
    starts_at: iso(h.starts_at) ?? '',
    ends_at: iso(h.ends_at) ?? '',
    started_at: iso(h.started_at),
    ended_at: iso(h.ended_at),
    cancelled: h.cancelled === '1',
    start,
    end,
  };
}

/** A window's occurrences that began (or were skipped), newest first. */
export async function listOccurrences(
  redis: Redis,
  keys: Keys,
  windowId: string,
  limit = 20,
): Promise<string[]> {
  return redis.zrevrange(keys.windowOccurrences(windowId), 0, Math.max(0, limit - 1));
}
