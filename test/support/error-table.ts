/**
 * The README's exit-code and error-code tables, rendered from errors.ts (the README prints
 * them between its `error-table` markers; test/unit/errors.test.ts keeps the two equal).
 * `npx tsx test/support/error-table.ts` prints them.
 */
import { pathToFileURL } from 'node:url';
import { ERRORS, EXIT_MEANINGS } from '../../src/errors.js';

export function errorTablesMarkdown(): string {
  const exits = Object.entries(EXIT_MEANINGS).map(([code, meaning]) => `| ${code} | ${meaning} |`);
  const codes = Object.entries(ERRORS).map(
    ([code, e]) => `| \`${code}\` | ${e.http} | ${e.exit} | ${e.meaning} |`,
  );
  return [
    '| Exit | Meaning |',
    '| --- | --- |',
    ...exits,
    '',
    '| Code | HTTP | Exit | Meaning |',
    '| --- | --- | --- | --- |',
    ...codes,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${errorTablesMarkdown()}\n`);
}
