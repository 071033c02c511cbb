/**
 * sendmux-deactivator: the library's public surface. The CLI is a thin shell over these.
 */
export { loadConfig, requireApiKey, ConfigError, envSchema, type Config } from './config.js';
export { createLogger, REDACT_PATHS, type Logger } from './logger.js';
export { createRedis, checkEvictionPolicy } from './redis.js';
export { keysFor, QUEUE_NAME, type Keys } from './keys.js';

export {
  ACTIONS,
  SOURCES,
  intentSchema,
  parseIntents,
  fingerprint,
  IntentValidationError,
  IdempotencyKeyConflictError,
  type Action,
  type Source,
  type Intent,
  type IntentInput,
} from './actions/intent.js';
export { jobIdForKey, keyForJobId } from './actions/job-id.js';
export { backoffDelay, rateLimitPause, limiterFor } from './actions/backoff.js';
export {
  createProducer,
  type Producer,
  type EnqueueResult,
  type EnqueueOptions,
} from './actions/producer.js';
export { openProducer, type ProducerHandle } from './actions/open-producer.js';
export {
  createActionQueue,
  type ActionQueue,
  type ActionJobData,
  type ActionJobResult,
} from './actions/queue.js';
export { startWorker, type ActionWorker, type StartWorkerOptions } from './actions/worker.js';
export { waitForIntents, readIntentStates, type IntentState } from './actions/wait.js';

export { readStatuses, listStatuses, type AccountStatus } from './status/read-status.js';
export { recordOutcome, type Outcome } from './status/record-outcome.js';

export { EVENT_TYPES, type ActionEvent, type EventType } from './events/types.js';
export {
  readRecentEvents,
  followEvents,
  createEventConsumer,
  type EventConsumer,
} from './events/stream.js';

export * from './sendmux/index.js';

export { enqueueActions, type ActionReport } from './commands/enqueue-actions.js';
export { runWorker } from './commands/run-worker.js';
export { accountStatus } from './commands/account-status.js';
export { readEvents } from './commands/read-events.js';
export { runDemo } from './commands/run-demo.js';
