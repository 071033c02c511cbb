/** What the action processor (processor.ts) needs, what it is, and why it aborts a call. */
import type { Job } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { ActionJobData, ActionJobResult } from '../queue/queue.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { SendmuxClient } from '../sendmux/client.js';
import type { Keys } from '../store/keys.js';

export type ProcessorConfig = Pick<
  Config,
  | 'maxAttempts'
  | 'backoffBaseMs'
  | 'backoffCapMs'
  | 'inFlightMaxWaits'
  | 'authRetryMs'
  | 'rateLimitMaxWaitMs'
  | 'rateLimitMaxWaits'
  | 'rateLimitLowWatermark'
  | 'rateLimitReserve'
  | 'rateLimitPerMinute'
  | 'idempotencyTtlS'
  | 'eventsMaxLen'
  | 'timeoutMs'
>;

export interface ProcessorDeps {
  client: SendmuxClient;
  redis: Redis;
  keys: Keys;
  config: ProcessorConfig;
  log: Logger;
  now?: () => Date;
}

export type ActionJob = Job<ActionJobData, ActionJobResult>;
export type Processor = (
  job: ActionJob,
  token: string | undefined,
  signal: AbortSignal | undefined,
) => Promise<ActionJobResult>;

/** Abort reasons the worker gives BullMQ's per-job signal. */
export const ABORT_SHUTDOWN = 'worker shutting down';
export const ABORT_LOCK_LOST = 'job lock lost';
