/**
 * The project's error codes and error classes. {@link ERRORS} is the one table: each code has
 * one HTTP status and one CLI exit code, so the CLI and the HTTP API answer the same problem
 * the same way (`{ "error": { "code", "message" } }` on both, with `--json` on the CLI). The
 * README prints this table; a test keeps the two equal. Errors are also recognised by `name`,
 * since they cross process boundaries (BullMQ keeps `failedReason`).
 */

/** The CLI's exit codes: every command uses these and no other. */
export const EXIT = {
  ok: 0,
  failed: 1,
  invalid: 2,
  timedOut: 3,
  notFound: 4,
  interrupted: 130,
} as const;

/** What each exit code means (the README prints it). */
export const EXIT_MEANINGS: Readonly<Record<(typeof EXIT)[keyof typeof EXIT], string>> = {
  0: 'done',
  1: 'done, but something failed (an action, with `--wait`), or it was refused by the state of what it names',
  2: 'bad input or configuration: the message names the argument or setting and the rule; nothing was done',
  3: 'timed out (`--wait-timeout`); what was enqueued stays queued',
  4: 'what it names does not exist (a batch, a window, an account with no recorded status)',
  130: 'interrupted (SIGINT) while waiting; what was enqueued stays queued',
};

/**
 * Every error code the CLI and the HTTP API answer, with its HTTP status, its exit code and
 * what it means (the README prints this table). A CLI command that ends with exit 3 or 130
 * has printed its summary: it is not an error answer, so those exit codes have no code here.
 */
export const ERRORS = {
  invalid_input: {
    http: 400,
    exit: EXIT.invalid,
    meaning:
      "a command's arguments or options, or a request's path, query or body, broke a rule (the message names the field and the rule); nothing was done",
  },
  unauthorized: {
    http: 401,
    exit: EXIT.invalid,
    meaning: 'the admin token is missing or wrong',
  },
  invalid_signature: {
    http: 401,
    exit: EXIT.invalid,
    meaning: 'a webhook whose `X-Sendmux-Signature` is missing or wrong',
  },
  cross_site_request: {
    http: 403,
    exit: EXIT.invalid,
    meaning: "a change with Basic credentials that did not come from this server's own pages",
  },
  forbidden: {
    http: 403,
    exit: EXIT.invalid,
    meaning: 'a read-only token (`ADMIN_TOKENS` kind `read`) asked for a change (not GET or HEAD)',
  },
  not_found: {
    http: 404,
    exit: EXIT.notFound,
    meaning: "what it names does not exist (a route, a batch, a window, an account's status)",
  },
  state_conflict: {
    http: 409,
    exit: EXIT.failed,
    meaning:
      'refused by the state of what it names (a breaker not open, or open already; a window id taken, a window over; a batch not finished, or not a deactivate run)',
  },
  idempotency_key_conflict: {
    http: 409,
    exit: EXIT.failed,
    meaning: 'the idempotency key is bound to another intent already; nothing was enqueued',
  },
  body_too_large: {
    http: 413,
    exit: EXIT.invalid,
    meaning: 'the request body is over its limit',
  },
  uri_too_long: {
    http: 414,
    exit: EXIT.invalid,
    meaning: 'a path segment is longer than the longest account id',
  },
  unsupported_media_type: {
    http: 415,
    exit: EXIT.invalid,
    meaning: 'the request body is of a media type the route does not take',
  },
  internal_error: {
    http: 500,
    exit: EXIT.failed,
    meaning: 'anything else (the details go to the log)',
  },
  invalid_config: {
    http: 503,
    exit: EXIT.invalid,
    meaning:
      'a setting (environment variable) broke its rule, or one a route needs is not set (`ADMIN_TOKEN`, `SENDMUX_WEBHOOK_SECRET`)',
  },
  redis_unavailable: {
    http: 503,
    exit: EXIT.failed,
    meaning:
      'Redis is unreachable or too slow: ask again (`Retry-After`; with the same idempotency key, the answer says what was done)',
  },
  inbox_full: {
    http: 503,
    exit: EXIT.failed,
    meaning: 'the webhook inbox is past its cap: Sendmux delivers again later (`Retry-After`)',
  },
  closing: {
    http: 503,
    exit: EXIT.failed,
    meaning: 'the server is closing (`/readyz`)',
  },
} as const satisfies Record<string, { http: number; exit: number; meaning: string }>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

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

/** A command's arguments or options, or a request's parameters, broke a rule. */
export class UsageError extends ProjectError {
  override readonly name = 'UsageError';
  readonly code = 'invalid_input';
}

/** One or more intents (or signals) broke a rule; nothing was enqueued. */
export class IntentValidationError extends ProjectError {
  override readonly name = 'IntentValidationError';
  readonly code = 'invalid_input';
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

/** The request names something that does not exist (a window id, a batch id). */
export class NotFoundError extends ProjectError {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
}

/**
 * Refused by the state of what the request names (a window id already taken, a window already
 * over, a breaker not open or open already, a batch not finished).
 */
export class StateConflictError extends ProjectError {
  override readonly name = 'StateConflictError';
  readonly code = 'state_conflict';
}

/** The code of an error: its own for the project's errors, `internal_error` for anything else. */
export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof ProjectError ? err.code : 'internal_error';
}

/** CLI exit code of an error, from {@link ERRORS} (1 for anything not the project's own). */
export function exitCodeOf(err: unknown): number {
  return ERRORS[errorCodeOf(err)].exit;
}

/** HTTP status of an error, from {@link ERRORS} (500 for anything not the project's own). */
export function httpStatusOf(err: unknown): number {
  return ERRORS[errorCodeOf(err)].http;
}
