/** CLI exit codes: a contract scripts rely on. */
import { IdempotencyKeyConflictError, IntentValidationError } from '../actions/intent.js';
import { ConfigError } from '../config.js';

export const EXIT_OK = 0;
/** An action failed (with `--wait`), or an unexpected runtime error. */
export const EXIT_ACTION_FAILED = 1;
/** Invalid input or configuration: the message names the argument and the rule; nothing was enqueued. */
export const EXIT_INVALID = 2;

/** A CLI argument broke a rule. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function exitCodeFor(err: unknown): number {
  if (
    err instanceof ConfigError ||
    err instanceof IntentValidationError ||
    err instanceof IdempotencyKeyConflictError ||
    err instanceof UsageError
  ) {
    return EXIT_INVALID;
  }
  return EXIT_ACTION_FAILED;
}
