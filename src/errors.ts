/**
 * The project's own error classes. Each carries a stable `code`; {@link exitCodeOf} and
 * {@link httpStatusOf} map it to a CLI exit code and an HTTP status, so the CLI and (later) the
 * HTTP API answer the same problem the same way. Errors are also recognised by `name`, since
 * they cross process boundaries (BullMQ keeps `failedReason`).
 */

export type ErrorCode =
  | 'invalid_config'
  | 'invalid_usage'
  | 'invalid_intent'
  | 'invalid_input'
  | 'idempotency_key_conflict'
  | 'not_found'
  | 'state_conflict';

abstract class ProjectError extends Error {
  abstract readonly code: ErrorCode;
}

/** A setting failed its rule. `issues` name the variable and the rule. */
export class ConfigError extends ProjectError {
  override readonly name = 'ConfigError';
  readonly code = 'invalid_config';
  constructor(readonly issues: readonly string[]) {
    super(`invalid configuration: ${issues.join('; ')}`);
  }
}

/** A command's options or a request's parameters broke a rule (not an intent's own fields). */
export class UsageError extends ProjectError {
  override readonly name = 'UsageError';
  readonly code = 'invalid_usage';
}

/** One or more intents broke a rule; nothing was enqueued. */
export class IntentValidationError extends ProjectError {
  override readonly name = 'IntentValidationError';
  readonly code = 'invalid_intent';
  constructor(readonly problems: readonly string[]) {
    super(`invalid intent: ${problems.join('; ')}`);
  }
}

/** Lines of a bulk input broke a rule; nothing was enqueued. `problems` shows the first ones. */
export class InvalidInputError extends ProjectError {
  override readonly name = 'InvalidInputError';
  readonly code = 'invalid_input';
  constructor(
    readonly input: string,
    readonly invalid: number,
    readonly problems: readonly string[],
  ) {
    const more = invalid > problems.length ? `\n  ... and ${invalid - problems.length} more` : '';
    super(
      `${invalid} invalid line(s) in ${input}; nothing was enqueued (--skip-invalid enqueues the valid ones):\n  ${problems.join('\n  ')}${more}`,
    );
  }
}

/** The same idempotency key is already bound to another intent; nothing was enqueued. */
export class IdempotencyKeyConflictError extends ProjectError {
  override readonly name = 'IdempotencyKeyConflictError';
  readonly code = 'idempotency_key_conflict';
  constructor(
    readonly idempotencyKey: string,
    readonly existing: string,
    readonly requested: string,
  ) {
    super(
      `idempotency key "${idempotencyKey}" is already used for another intent (${existing}); refused ${requested}`,
    );
  }
}

/** The request names something that does not exist (a window id, say). */
export class NotFoundError extends ProjectError {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
}

/** The request clashes with what exists (a window id already taken, a window already over). */
export class StateConflictError extends ProjectError {
  override readonly name = 'StateConflictError';
  readonly code = 'state_conflict';
}

const EXIT_CODES: Record<ErrorCode, number> = {
  not_found: 2,
  state_conflict: 2,
  invalid_config: 2,
  invalid_usage: 2,
  invalid_intent: 2,
  invalid_input: 2,
  idempotency_key_conflict: 2,
};
const HTTP_STATUSES: Record<ErrorCode, number> = {
  not_found: 404,
  state_conflict: 409,
  invalid_config: 500,
  invalid_usage: 400,
  invalid_intent: 400,
  invalid_input: 400,
  idempotency_key_conflict: 409,
};

function codeOf(err: unknown): ErrorCode | undefined {
  return err instanceof ProjectError ? err.code : undefined;
}

/** CLI exit code: 2 for bad input or configuration, 1 for anything else. */
export function exitCodeOf(err: unknown): number {
  const code = codeOf(err);
  return code === undefined ? 1 : EXIT_CODES[code];
}

/** HTTP status for an HTTP API answer: 4xx for bad input, 500 for anything else. */
export function httpStatusOf(err: unknown): number {
  const code = codeOf(err);
  return code === undefined ? 500 : HTTP_STATUSES[code];
}
