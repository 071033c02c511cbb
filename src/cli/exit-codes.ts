/**
 * CLI exit codes: a contract scripts rely on, defined once in errors.ts (`EXIT`, with their
 * meanings beside the error table that maps to them); named here for the commands.
 */
import { EXIT } from '../errors.js';

export const EXIT_OK = EXIT.ok;
/** Done, but an action failed or was superseded (with `--wait`), or refused by state. */
export const EXIT_ACTION_FAILED = EXIT.failed;
/** Invalid input or configuration: the message names the argument and the rule; nothing was enqueued. */
export const EXIT_INVALID = EXIT.invalid;
/** `--wait-timeout` ran out before every action finished (they stay queued). */
export const EXIT_WAIT_TIMEOUT = EXIT.timedOut;
/** What the command names does not exist (a batch, a window, an account's status). */
export const EXIT_NOT_FOUND = EXIT.notFound;
/** Interrupted (SIGINT) while waiting; the actions stay queued. */
export const EXIT_INTERRUPTED = EXIT.interrupted;
