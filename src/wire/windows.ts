/**
 * Maintenance windows as a user sees them: `window create|show|list|extend|cancel|delete --json`
 * and `POST /v1/windows`, `GET /v1/windows[/:id]`, `POST /v1/windows/:id/cancel|extend`,
 * `DELETE /v1/windows/:id`.
 */
import { z } from 'zod';
import {
  WINDOW_VIEW_STATES,
  type WindowCancelResult,
  type WindowDeleteResult,
  type WindowView,
} from '../producers/windows/windows.js';
import type { EndDecision, OccurrenceRecord } from '../store/window-occurrence.js';
import { OCCURRENCE_STATES } from '../store/window-occurrence.js';
import { accountIdSchema, timeSchema } from './common.js';

export const occurrenceSchema = z.strictObject({
  window_id: z.string(),
  /** The occurrence's id: its start, `YYYYMMDDTHHMMSSZ` (UTC). */
  occurrence: z.string(),
  state: z.enum(OCCURRENCE_STATES),
  starts_at: timeSchema,
  ends_at: timeSchema,
  started_at: timeSchema.nullable(),
  ended_at: timeSchema.nullable(),
  cancelled: z.boolean(),
  /** What the start decided for each target. */
  start: z.array(
    z.strictObject({
      account_id: accountIdSchema,
      decision: z.enum(['switch_off', 'already_off', 'missing']),
    }),
  ),
  /** What the end did for each account (`held_by`: the holds that kept it off). */
  end: z.array(
    z.strictObject({
      account_id: accountIdSchema,
      decision: z.enum(['reactivate', 'off', 'unknown', 'held', 'gone', 'conflict']),
      held_by: z.array(z.string()),
    }),
  ),
});

export const windowSchema = z.strictObject({
  window_id: z.string(),
  /** `scheduled`, `over` (a one-off window that has run its course) or `cancelled`. */
  state: z.enum(WINDOW_VIEW_STATES),
  reason: z.string(),
  created_at: timeSchema,
  cancelled_at: timeSchema.nullable(),
  /** Who created it (model/actor.ts); null for windows stored before actors existed. */
  created_by: z.string().nullable(),
  /** Who cancelled it; null if nobody did. */
  cancelled_by: z.string().nullable(),
  targets: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('accounts'), account_ids: z.array(accountIdSchema) }),
    z.strictObject({ kind: z.literal('filter'), filter: z.string() }),
  ]),
  schedule: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('once'), starts_at: timeSchema, ends_at: timeSchema }),
    z.strictObject({
      kind: z.literal('recurring'),
      cron: z.string(),
      duration_s: z.number(),
      tz: z.string(),
    }),
  ]),
  /** The next starts, for a window still scheduled (up to 3). */
  next_starts: z.array(timeSchema),
  /** Occurrences that began, newest first (up to 20). */
  occurrences: z.array(occurrenceSchema),
});
export type WindowWire = z.infer<typeof windowSchema>;

/** `GET /v1/windows`. */
export const windowsListSchema = z.strictObject({ windows: z.array(windowSchema) });

const iso = (ms: number) => new Date(ms).toISOString();

function endView(accountId: string, d: EndDecision) {
  return { account_id: accountId, decision: d.do, held_by: d.do === 'held' ? d.heldBy : [] };
}

export function occurrenceView(o: OccurrenceRecord): z.infer<typeof occurrenceSchema> {
  return {
    window_id: o.window_id,
    occurrence: o.occurrence,
    state: o.state,
    starts_at: o.starts_at,
    ends_at: o.ends_at,
    started_at: o.started_at,
    ended_at: o.ended_at,
    cancelled: o.cancelled,
    start: Object.entries(o.start).map(([id, decision]) => ({ account_id: id, decision })),
    end: Object.entries(o.end).map(([id, d]) => endView(id, d)),
  };
}

export function windowView(w: WindowView): WindowWire {
  const t = w.targets;
  const s = w.schedule;
  return {
    window_id: w.id,
    state: w.state,
    reason: w.reason,
    created_at: w.created_at,
    cancelled_at: w.cancelled_at,
    created_by: w.created_by,
    cancelled_by: w.cancelled_by,
    targets:
      t.kind === 'accounts'
        ? { kind: 'accounts', account_ids: t.ids }
        : { kind: 'filter', filter: t.text },
    schedule:
      s.kind === 'once'
        ? { kind: 'once', starts_at: iso(s.startMs), ends_at: iso(s.endMs) }
        : { kind: 'recurring', cron: s.cron, duration_s: s.durationMs / 1000, tz: s.tz },
    next_starts: w.next_starts,
    occurrences: w.occurrences.map(occurrenceView),
  };
}

/** `window cancel --json`, `POST /v1/windows/:id/cancel`. */
export const windowCancelSchema = z.strictObject({
  window_id: z.string(),
  /** `future`, `running` (its occurrence ended now), `over` or `cancelled` (before). */
  was: z.enum(['future', 'running', 'over', 'cancelled']),
  /** The occurrences ended now. */
  ended: z.array(z.string()),
});

export function windowCancelView(r: WindowCancelResult): z.infer<typeof windowCancelSchema> {
  return { window_id: r.window_id, was: r.was, ended: r.ended };
}

/** `window delete --json`, `DELETE /v1/windows/:id`. */
export const windowDeleteSchema = z.strictObject({
  window_id: z.string(),
  deleted: z.literal(true),
  /** What it was: `scheduled` (nothing running), `over` or `cancelled`. */
  was: z.enum(WINDOW_VIEW_STATES),
});

export function windowDeleteView(r: WindowDeleteResult): z.infer<typeof windowDeleteSchema> {
  return { window_id: r.window_id, deleted: true, was: r.was };
}
