/**
 * One guard of the guard list (test/guards/guards.ts): a line of code that keeps a promise, the
 * change that breaks it, and the tests that must fail when it is broken. `npm run test:guards`
 * (scripts/test-guards.ts) applies each mutation in a temporary copy of the repository and
 * runs the tests: a mutation the tests survive is a promise no test checks.
 */
export interface Guard {
  /** Unique, stable: `--only <id>`, and the comment next to the guard in its file. */
  id: string;
  /** The file holding the guard, from the repository root. */
  file: string;
  /** The guard's exact text in `file`; it must occur exactly once there (else the list is stale). */
  guard: string;
  /** What replaces `guard` to break it. */
  mutation: string;
  /** The promise it keeps, in one line. */
  why: string;
  /** Vitest files (from the repository root) of which at least one test must fail. */
  tests: string[];
  /** Passed to vitest as `-t`: only the tests whose name matches run. */
  filter?: string;
}
