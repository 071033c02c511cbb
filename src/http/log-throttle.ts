/**
 * A log line that a client can trigger at will (a forged webhook, a connection over the cap)
 * is written at most once per interval: a flood of them costs a line per interval, not a line
 * per request. The line after a quiet spell says how many were left out (`suppressed`); the
 * metrics count every one.
 */

/** Interval of the throttled log lines of the HTTP server. */
export const LOG_THROTTLE_MS = 10_000;

export type ThrottledLog = (write: (suppressed: number) => void) => void;

/**
 * @returns a gate: call it with the function that writes the line; it runs at most once per
 *   `intervalMs`, with the number of calls left out since the last line it ran.
 */
export function throttledLog(
  intervalMs: number = LOG_THROTTLE_MS,
  now: () => number = () => performance.now(),
): ThrottledLog {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (write) => {
    const t = now();
    if (t - last < intervalMs) {
      suppressed += 1;
      return;
    }
    last = t;
    const left = suppressed;
    suppressed = 0;
    write(left);
  };
}
