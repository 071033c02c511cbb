/**
 * What reached the simulator over HTTP and when, seen from its server: how many requests on a
 * path were in flight at once. An overlap is seen when it happens, so no fixed sleep is needed
 * to show that it did not.
 */
import type { Simulator } from '../../src/sim/index.js';

export interface CallOverlap {
  /** The most requests whose path contains `part` that were in flight at the same time. */
  maxInFlight(): number;
  /** Requests whose path contains `part` seen so far. */
  seen(): number;
}

/** Watch the simulator's requests whose path contains `part` (e.g. `/providers/<id>/`). */
export function watchOverlap(sim: Simulator, part: string): CallOverlap {
  let inFlight = 0;
  let max = 0;
  let seen = 0;
  sim.app.server.on('request', (req, res) => {
    if (!req.url?.includes(part)) return;
    seen++;
    max = Math.max(max, ++inFlight);
    res.once('close', () => {
      inFlight--;
    });
  });
  return { maxInFlight: () => max, seen: () => seen };
}
