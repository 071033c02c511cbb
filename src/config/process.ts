/**
 * Settings of a worker process's life (put together in ../config.ts): the windows steps it
 * runs, how long SIGTERM waits, BullMQ's job lock and stalled check.
 */
import { int, setting } from './rules.js';

export const PROCESS_SETTINGS = {
  windowConcurrency: setting(
    'WINDOW_CONCURRENCY',
    int(0, 100).default(2),
    "Maintenance-window steps (an occurrence's start or end) one `worker` process runs at once; 0 = this process runs none (another must).",
  ),
  shutdownTimeoutMs: setting(
    'SHUTDOWN_TIMEOUT_MS',
    int(0, 600_000).default(25_000),
    'How long SIGTERM waits for in-flight calls before aborting them (>= SENDMUX_TIMEOUT_MS); the process stops within it whatever Redis does.',
  ),
  lockDurationMs: setting(
    'WORKER_LOCK_DURATION_MS',
    int(1_000, 600_000).default(6_000),
    "BullMQ job lock: a crashed worker's jobs are taken over after it expires (plus the stalled interval).",
  ),
  stalledIntervalMs: setting(
    'WORKER_STALLED_INTERVAL_MS',
    int(1_000, 600_000).default(4_000),
    'How often workers look for stalled jobs.',
  ),
} as const;
