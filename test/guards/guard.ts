/**
 * One guard of the guard list (test/guards/guards.ts): a line of code that keeps a promise, the
 * change that breaks it, and the tests that must fail when it is broken. `npm run test:guards`
 * (scripts/test-guards.ts) applies each mutation in a temporary copy of the repository and
 * runs the tests: a mutation the tests survive is a promise no test checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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

/** How many times `needle` occurs in `text` (non-overlapping). */
export function occurrences(text: string, needle: string): number {
  if (needle === '') return 0;
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** The problems of the list itself: duplicate ids, missing files, stale guard texts. */
export function staleness(guards: readonly Guard[], root: string): Map<string, string> {
  const problems = new Map<string, string>();
  const seen = new Set<string>();
  for (const g of guards) {
    if (seen.has(g.id)) problems.set(g.id, 'duplicate id');
    seen.add(g.id);
    let text: string;
    try {
      text = readFileSync(join(root, g.file), 'utf8');
    } catch {
      problems.set(g.id, `no file ${g.file}`);
      continue;
    }
    const n = occurrences(text, g.guard);
    if (n !== 1) problems.set(g.id, `guard text occurs ${n} times in ${g.file} (must be once)`);
    else if (g.mutation === g.guard) problems.set(g.id, 'the mutation is the guard itself');
    for (const t of g.tests) {
      try {
        readFileSync(join(root, t));
      } catch {
        problems.set(g.id, `no test file ${t}`);
      }
    }
  }
  return problems;
}
