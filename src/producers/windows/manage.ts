/**
 * What users ask of windows (the CLI's `window` commands, /v1/windows): create, show, list,
 * cancel (ending a running occurrence through its end step) and extend.
 */
import { randomBytes } from 'node:crypto';
import { NotFoundError, StateConflictError, UsageError } from '../../errors.js';
import { listOccurrences, setOccurrenceEnd } from '../../store/window-occurrence.js';
import {
  cancelWindowRecord,
  createWindowRecord,
  dropWindowRecord,
  listWindowIds,
  readWindowRecord,
  setWindowSchedule,
} from '../../store/window-record.js';
import type { WindowReads } from './read.js';
import {
  nextOccurrences,
  parseTime,
  parseWindow,
  type WindowSchedule,
  type WindowTargets,
} from './spec.js';
import type { Windows, WindowsDeps, WindowView } from './types.js';

export function windowManager(
  deps: WindowsDeps,
  reads: WindowReads,
  end: Windows['end'],
): Pick<Windows, 'create' | 'show' | 'list' | 'cancel' | 'extend'> {
  const { redis, keys, scheduler } = deps;
  const now = deps.now ?? (() => new Date());
  const iso = (ms: number) => new Date(ms).toISOString();
  const { mustRead, view, running } = reads;

  return {
    async create(input, actor) {
      const spec = parseWindow(input, now(), () => `w-${randomBytes(5).toString('hex')}`);
      if (spec.targets.kind === 'filter' && !deps.lister) {
        throw new UsageError(
          '--filter: needs the API to list accounts at each start (set SENDMUX_API_KEY)',
        );
      }
      const created = await createWindowRecord(redis, keys, spec, now(), actor);
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
    async cancel(windowId, actor) {
      const w = await mustRead(windowId);
      const before = await cancelWindowRecord(redis, keys, windowId, now(), actor);
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
  };
}
