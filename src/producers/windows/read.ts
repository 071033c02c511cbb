/** Reading windows: one (or not found), its view with its occurrences, its running occurrences. */
import { NotFoundError } from '../../errors.js';
import {
  listOccurrences,
  readOccurrence,
  type OccurrenceRecord,
} from '../../store/window-occurrence.js';
import { readWindowRecord } from '../../store/window-record.js';
import { nextOccurrences, type WindowSchedule, type WindowTargets } from './spec.js';
import type { Window, WindowView, WindowViewState, WindowsDeps } from './types.js';

export interface WindowReads {
  mustRead: (windowId: string) => Promise<Window>;
  view: (w: Window) => Promise<WindowView>;
  running: (windowId: string) => Promise<OccurrenceRecord[]>;
}

/** `over`: a one-off window whose occurrence ended or was skipped, and none is running. */
function viewState(w: Window, occurrences: readonly OccurrenceRecord[]): WindowViewState {
  if (w.state !== 'scheduled' || w.schedule.kind !== 'once') return w.state;
  const done = (o: OccurrenceRecord) => o.state === 'ended' || o.state === 'skipped';
  return occurrences.length > 0 && occurrences.every(done) ? 'over' : 'scheduled';
}

export function windowReads(deps: WindowsDeps): WindowReads {
  const { redis, keys } = deps;
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
    return { ...w, state: viewState(w, occurrences), next_starts: next.map(iso), occurrences };
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

  return { mustRead, view, running };
}
