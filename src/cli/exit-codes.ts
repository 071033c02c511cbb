/** CLI exit codes: a contract scripts rely on. */
export { exitCodeOf as exitCodeFor } from '../errors.js';

export const EXIT_OK = 0;
/** An action failed or was superseded (with `--wait`), or an unexpected runtime error. */
export const EXIT_ACTION_FAILED = 1;
/** Invalid input or configuration: the message names the argument and the rule; nothing was enqueued. */
export const EXIT_INVALID = 2;
/** `--wait-timeout` ran out before every action finished (they stay queued). */
export const EXIT_WAIT_TIMEOUT = 3;
/** Interrupted (SIGINT) while waiting; the actions stay queued. */
export const EXIT_INTERRUPTED = 130;
