/** Putting back what a lost schedule needs: schedulers, pending starts, running ends. */
import { listOccurrences } from '../../store/window-occurrence.js';
import { listWindowIds, readWindowRecord } from '../../store/window-record.js';
import type { WindowReads } from './read.js';
import type { WindowSchedule, WindowTargets } from './spec.js';
import type { Windows, WindowsDeps } from './types.js';

export function windowReconciler(
  deps: WindowsDeps,
  running: WindowReads['running'],
): Windows['reconcile'] {
  const { redis, keys, scheduler } = deps;
  return async function reconcile() {
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
  };
}
