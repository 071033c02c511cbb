/** Invalid lines of a bulk input are quoted escaped: a binary file never reaches the terminal raw. */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readIdLines, shown } from '../../src/producers/bulk/ids.js';

/** Printable ASCII only: what a message may carry to a terminal. */
const PRINTABLE = /^[\x20-\x7e]*$/;

async function problemsOf(bytes: Buffer): Promise<string[]> {
  const problems: string[] = [];
  for await (const batch of readIdLines(Readable.from([bytes]), '--file x.bin')) {
    for (const line of batch) if (line.problem !== undefined) problems.push(line.problem);
  }
  return problems;
}

describe('shown', () => {
  it('keeps printable ASCII, escapes the rest JSON-style or as \\xNN / \\uNNNN', () => {
    expect(shown('oops')).toBe('oops');
    expect(shown('a"b\\c\td')).toBe('a\\"b\\\\c\\td');
    expect(shown('\x1b[2J\x00\x7f')).toBe('\\x1b[2J\\x00\\x7f');
    expect(shown('é\u202e\ufffd😀')).toBe('\\xe9\\u202e\\ufffd\\u{1f600}');
  });

  it('cuts a long line at about 60 characters', () => {
    expect(shown('x'.repeat(500))).toBe(`${'x'.repeat(60)}...`);
    const escapedLong = shown('\x01'.repeat(500));
    expect(escapedLong.length).toBeLessThanOrEqual(70);
    expect(escapedLong.endsWith('...')).toBe(true);
  });
});

describe('readIdLines on a binary file', () => {
  it('names each invalid line with its bytes escaped and cut short', async () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) % 256;
    const problems = await problemsOf(bytes);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      expect(p).toMatch(PRINTABLE);
      expect(p.length).toBeLessThan(200);
    }
  });

  it('escapes a CSV header without an id column too', async () => {
    await expect(problemsOf(Buffer.from('a,\x1b]0;pwned\x07b\nx,y\n'))).rejects.toThrow(
      /columns: a, \\x1b\]0;pwned\\x07b\)/,
    );
  });
});
