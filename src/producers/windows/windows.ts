/**
 * Maintenance windows as a producer: at each occurrence's start, read what the accounts are,
 * hold every one off (hold `window:<id>:<occurrence>`) and ask the active ones off (source
 * `window`, key `window:<id>:<occurrence>:<account>`); at its end, release the holds and
 * ask back on exactly the accounts whose last hold that was and that were on before the first
 * (key `...:<account>:end`). The steps run from the windows queue (queue/window-queue.ts);
 * each is idempotent and records what it decided before acting on it, so a step run twice
 * (two processes, a crash, a duplicated scheduler job) changes nothing twice.
 *
 * This file puts the parts together: manage.ts (create, show, list, cancel, extend), delete.ts
 * (delete), steps.ts (the start and end steps, run by the worker side; targets.ts reads a
 * start's accounts), reconcile.ts, read.ts (reading windows), step-ids.ts (hold id, idempotency keys), types.ts.
 */
import { windowDeleter } from './delete.js';
import { windowManager } from './manage.js';
import { windowReads } from './read.js';
import { windowReconciler } from './reconcile.js';
import { windowSteps } from './steps.js';
import type { Windows, WindowsDeps } from './types.js';

export { endKey, windowHoldId, windowKey } from './step-ids.js';
export { WINDOW_VIEW_STATES } from './types.js';
export type {
  EndResult,
  StartResult,
  Window,
  WindowCancelResult,
  WindowDeleteResult,
  Windows,
  WindowsDeps,
  WindowView,
  WindowViewState,
} from './types.js';

export function createWindows(deps: WindowsDeps): Windows {
  const reads = windowReads(deps);
  const { start, end } = windowSteps(deps);
  return {
    ...windowManager(deps, reads, end),
    delete: windowDeleter(deps, reads),
    start,
    end,
    reconcile: windowReconciler(deps, reads.running),
  };
}
