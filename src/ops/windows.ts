/**
 * Maintenance windows as library functions (the `window` CLI commands, the HTTP routes):
 * create, list, show, cancel, extend, delete. {@link openWindows} keeps one set of connections for a
 * long-running server; the functions below open and close their own.
 */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { WindowInput } from '../producers/windows/spec.js';
import {
  createWindows,
  type WindowCancelResult,
  type WindowDeleteResult,
  type Windows,
  type WindowView,
} from '../producers/windows/windows.js';
import { openProducer } from '../queue/open-producer.js';
import { createWindowQueue, windowScheduler, type WindowQueue } from '../queue/window-queue.js';
import { deadline, within } from '../shutdown.js';
import { keysFor } from '../store/keys.js';
import { openApiReads } from './api-reads.js';

export type { WindowCancelResult, WindowDeleteResult, WindowInput, WindowView };

export interface WindowsHandle extends Windows {
  readonly queue: WindowQueue;
  /** Close within `timeoutMs` (default 5 s), whatever Redis does; never throws. */
  close(timeoutMs?: number): Promise<void>;
}

/** How long closing waits for Redis before dropping the connections. */
const CLOSE_TIMEOUT_MS = 5_000;

/** Windows with their own connections (Redis, the actions queue, the windows queue, the API). */
export function openWindows(config: Config, log?: Logger, signal?: AbortSignal): WindowsHandle {
  const producer = openProducer(config);
  const keys = keysFor(config.prefix);
  const queue = createWindowQueue(config.prefix, producer.redis);
  queue.on('error', () => undefined);
  const api = openApiReads(config, producer.redis, keys);
  const windows = createWindows({
    redis: producer.redis,
    keys,
    producer,
    scheduler: windowScheduler(queue),
    reader: api?.reader,
    lister: api?.lister,
    eventsMaxLen: config.eventsMaxLen,
    ...(log ? { log } : {}),
    ...(signal ? { signal } : {}),
  });
  return {
    ...windows,
    queue,
    async close(timeoutMs = CLOSE_TIMEOUT_MS) {
      const left = deadline(timeoutMs);
      await within(api?.close(), left());
      // The queue shares the producer's connection, which the producer's close drops.
      await within(queue.close(), left());
      await producer.close(left());
    },
  };
}

async function withWindows<T>(config: Config, fn: (w: Windows) => Promise<T>): Promise<T> {
  const handle = openWindows(config);
  try {
    return await fn(handle);
  } finally {
    await handle.close();
  }
}

/** Create a window (one-off: start/end; recurring: cron/duration/tz). */
export function createWindow(
  config: Config,
  input: WindowInput,
  actor?: string,
): Promise<WindowView> {
  return withWindows(config, (w) => w.create(input, actor));
}

export function listWindows(config: Config, limit?: number): Promise<WindowView[]> {
  return withWindows(config, (w) => w.list(limit));
}

export function showWindow(config: Config, windowId: string): Promise<WindowView> {
  return withWindows(config, (w) => w.show(windowId));
}

/** A future window is removed; a running one ends now. */
export function cancelWindow(
  config: Config,
  windowId: string,
  actor?: string,
): Promise<WindowCancelResult> {
  return withWindows(config, (w) => w.cancel(windowId, actor));
}

/** Move the end of a one-off window, or of a recurring window's running occurrence. */
export function extendWindow(
  config: Config,
  windowId: string,
  endIso: string,
): Promise<WindowView> {
  return withWindows(config, (w) => w.extend(windowId, endIso));
}

/**
 * Remove a window that holds nothing (over, not yet started, cancelled) with its records and
 * jobs; one whose occurrence is running is refused (StateConflictError: cancel it first).
 */
export function deleteWindow(
  config: Config,
  windowId: string,
  actor: string | null,
): Promise<WindowDeleteResult> {
  return withWindows(config, (w) => w.delete(windowId, actor));
}
