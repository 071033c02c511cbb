/**
 * `window delete`: remove a window that holds nothing (over, not yet started, cancelled, or a
 * recurring one between occurrences): its records (store/window-delete.ts, with the
 * `window.deleted` event) and every job of it in the windows queue. A window whose occurrence
 * is running holds its accounts off; deleting it would leave those holds with nothing to
 * release them, so it is refused (`window cancel` ends it first). Holds and accounts are never
 * touched.
 */
import { NotFoundError, StateConflictError } from '../../errors.js';
import type { WindowDeletedEvent } from '../../model.js';
import { encodeEvent } from '../../store/event-codec.js';
import { deleteWindowRecords } from '../../store/window-delete.js';
import type { WindowReads } from './read.js';
import type { WindowDeleteResult, WindowsDeps } from './types.js';

/** How often the records are read again when an occurrence came or went meanwhile. */
const ATTEMPTS = 5;

export function windowDeleter(
  deps: WindowsDeps,
  reads: WindowReads,
): (windowId: string, actor: string | null) => Promise<WindowDeleteResult> {
  const { redis, keys, scheduler } = deps;
  const now = deps.now ?? (() => new Date());
  const active = (windowId: string, occurrence: string) =>
    new StateConflictError(
      `window "${windowId}": active (occurrence ${occurrence} holds its accounts off); ` +
        `\`window cancel ${windowId}\` ends it first, then delete it`,
    );

  return async function deleteWindow(windowId, actor) {
    const w = await reads.view(await reads.mustRead(windowId));
    const [current] = await reads.running(windowId);
    if (current) throw active(windowId, current.occurrence);
    if (await scheduler.startRunning(windowId)) {
      throw new StateConflictError(
        `window "${windowId}": its start is running now; \`window cancel ${windowId}\` ends it, then delete it`,
      );
    }
    const once = w.schedule.kind === 'once' ? w.schedule.startMs : undefined;
    await scheduler.unschedule(windowId, once);
    const event: WindowDeletedEvent = {
      type: 'window.deleted',
      window_id: windowId,
      was: w.state,
      actor,
      at: now().toISOString(),
    };
    for (let attempt = 1; ; attempt++) {
      const r = await deleteWindowRecords(
        redis,
        keys,
        windowId,
        encodeEvent(event),
        deps.eventsMaxLen,
      );
      if (r.result === 'deleted') {
        await scheduler.forget(windowId, {
          startMs: once,
          recurring: w.schedule.kind === 'recurring',
          occurrences: r.occurrences,
        });
        return { window_id: windowId, was: w.state };
      }
      if (r.result === 'none') throw new NotFoundError(`window "${windowId}": no such window`);
      if (r.result === 'running' || attempt >= ATTEMPTS) {
        // An occurrence began meanwhile: the window stays as it was, schedule and all.
        if (w.state === 'scheduled' && w.schedule.kind === 'recurring') {
          await scheduler.scheduleRecurring(windowId, w.schedule.cron, w.schedule.tz);
        }
        throw active(windowId, r.result === 'running' ? r.occurrence : 'new');
      }
    }
  };
}
