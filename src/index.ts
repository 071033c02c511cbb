/**
 * sendmux-deactivator as a library: a short, deliberate list. Producers enqueue intents
 * (`openProducer`), workers carry them out (`startWorker` / `runWorker`), readers show what
 * happened (`accountStatus`, `readEvents`, `openEventConsumer`). Everything else is internal.
 * The simulator and the demo are not part of it (they would load fastify).
 */
export { loadConfig, type Config } from './config.js';
export { createLogger, type Logger } from './logger.js';
export {
  ConfigError,
  IdempotencyKeyConflictError,
  IntentValidationError,
  InvalidInputError,
  UsageError,
  exitCodeOf,
  httpStatusOf,
  type ErrorCode,
} from './errors.js';
export {
  ACTIONS,
  EVENT_TYPES,
  INTENT_STATES,
  SOURCES,
  type AccountState,
  type Action,
  type ActionCancelledEvent,
  type ActionEvent,
  type ActionFailedEvent,
  type ActionSucceededEvent,
  type ActionSupersededEvent,
  type BreakerEvent,
  type BreakerNumbers,
  type BreakerResetEvent,
  type BreakerTrippedEvent,
  type EventType,
  type Hold,
  type Intent,
  type IntentInput,
  type IntentState,
  type SignalOutcome,
  type Source,
  type StreamEvent,
  type WindowDeletedEvent,
  type WindowEndedEvent,
  type WindowEvent,
  type WindowSkippedEvent,
  type WindowStartedEvent,
} from './model.js';

export { openProducer, type ProducerHandle } from './queue/open-producer.js';
export type { EnqueueOptions, EnqueueResult } from './queue/enqueue.js';
export type { WaitOptions, WaitProgress, WaitResult } from './queue/wait.js';
export type { Binding } from './store/binding.js';
export { startWorker, type ActionWorker, type StartWorkerOptions } from './worker/worker.js';

export {
  enqueueActions,
  type ActionReport,
  type EnqueueActionsOptions,
} from './ops/enqueue-actions.js';
export {
  batchReport,
  dryRunBulk,
  getBatch,
  listBatches,
  startBulkRun,
  type BatchReportRow,
  type BulkPassResult,
  type BulkRunResult,
  type DryRunReport,
  type StartBulkRunOptions,
} from './ops/bulk.js';
export { cancelBatch, type CancelResult } from './ops/batch-cancel.js';
export {
  undoBatch,
  type UndoAccount,
  type UndoOptions,
  type UndoResult,
} from './ops/batch-undo.js';
export type { BulkSource } from './producers/bulk/run.js';
export type { BatchRecord } from './store/batch-record.js';
export { runWorker, type RunWorkerOptions } from './ops/run-worker.js';
export {
  startNotifier,
  type Notifier,
  type NotifierConfig,
  type NotifierOptions,
} from './notify/notifier.js';
export { accountStatus } from './ops/account-status.js';
export type { AccountStatus } from './store/status-record.js';
export { readEvents, type ReadEventsOptions } from './ops/read-events.js';
export {
  openBreaker,
  type BreakerHandle,
  type BreakerStatus,
  type ResetResult,
  type SignalResult,
  type TripResult,
} from './ops/breaker.js';
export {
  openWindows,
  type WindowCancelResult,
  type WindowDeleteResult,
  type WindowInput,
  type WindowsHandle,
  type WindowView,
} from './ops/windows.js';
export { openEventConsumer, type EventConsumerHandle } from './ops/event-consumer.js';
export type { EventConsumerOptions } from './store/events.js';

export {
  createSendmuxClient,
  type SendmuxClient,
  type SendmuxClientOptions,
} from './sendmux/client.js';
export { SendmuxError, type FailureKind } from './sendmux/errors.js';
/**
 * The JSON shapes: what the CLI's `--json` and the HTTP API print of a returned value is its
 * view here (`wire.eventView(e)`, `wire.batchView(b)`, ...), checked by its zod schema.
 */
export * as wire from './wire/index.js';
