/**
 * The windows' types: a window as stored and as shown, what the windows need, what each step
 * answers, and {@link Windows}, the whole (windows.ts puts it together).
 */
import type { Logger } from '../../logger.js';
import type { WindowEndedEvent, WindowSkippedEvent, WindowStartedEvent } from '../../model.js';
import type { Producer } from '../../queue/enqueue.js';
import type { WindowScheduler } from '../../queue/window-queue.js';
import type { RedisClient as Redis } from '../../redis/connect.js';
import type { Keys } from '../../store/keys.js';
import type { OccurrenceRecord } from '../../store/window-occurrence.js';
import type { WindowRecord } from '../../store/window-record.js';
import type { AccountReader, RetryOptions } from '../account-states.js';
import type { AccountLister } from '../bulk/accounts.js';
import type { WindowInput, WindowSchedule, WindowTargets } from './spec.js';

export type Window = WindowRecord<WindowTargets, WindowSchedule>;

/**
 * A window's state as shown: the record's `scheduled` or `cancelled`, or `over` for a one-off
 * window (not cancelled) whose occurrence has run its course (ended or skipped): nothing more
 * will start. A recurring window stays `scheduled` and shows its next starts.
 */
export const WINDOW_VIEW_STATES = ['scheduled', 'over', 'cancelled'] as const;
export type WindowViewState = (typeof WINDOW_VIEW_STATES)[number];

export interface WindowView extends Omit<Window, 'state'> {
  state: WindowViewState;
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

/** `window delete`: what the window was when it was deleted. */
export interface WindowDeleteResult {
  window_id: string;
  was: WindowViewState;
}

export interface Windows {
  /** `actor`: who creates it (model/actor.ts), kept as `created_by`. */
  create(input: WindowInput, actor?: string): Promise<WindowView>;
  show(windowId: string): Promise<WindowView>;
  list(limit?: number): Promise<WindowView[]>;
  /** `actor`: who cancels it, kept as `cancelled_by`. */
  cancel(windowId: string, actor?: string): Promise<WindowCancelResult>;
  /**
   * Remove a window that holds nothing (over, not yet started, cancelled, or recurring between
   * occurrences) with every record and job of it; a running one is refused (StateConflictError).
   * `actor`: who asks, kept in the `window.deleted` event.
   */
  delete(windowId: string, actor: string | null): Promise<WindowDeleteResult>;
  /** Move the end of a one-off window, or of a recurring window's running occurrence. */
  extend(windowId: string, endIso: string): Promise<WindowView>;
  /** The start step of the occurrence beginning at `startsMs` (the windows queue calls it). */
  start(windowId: string, startsMs: number): Promise<StartResult>;
  /** The end step of an occurrence. */
  end(windowId: string, occurrence: string): Promise<EndResult>;
  /** Put back what a lost schedule needs: schedulers, pending starts, running ends. */
  reconcile(): Promise<number>;
}
