/** The library API is a short, deliberate list, and the README says exactly what it is. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const librarySection = readme.slice(readme.indexOf('## Library'), readme.indexOf('## Operations'));
/** The bulleted list of exports, without the notes in parentheses (method names, commands). */
const exportList = librarySection.slice(0, librarySection.indexOf('```')).replace(/\([^)]*\)/g, '');

describe('the public API', () => {
  const runtime = Object.keys(api).sort();

  it('is short', () => {
    // Raised from 30 with issue 9 (openWindows, undoBatch), to 33 with issue 19 (`wire`, the
    // JSON shapes): still one entry per use.
    expect(runtime.length).toBeLessThanOrEqual(33);
  });

  it('is listed in the README, name by name, and the README lists nothing else at run time', () => {
    for (const name of runtime) expect(exportList, name).toContain(`\`${name}\``);
    const listed = [...exportList.matchAll(/`([a-zA-Z_]+)`/g)].map((m) => m[1] ?? '');
    for (const name of listed) expect(runtime, `README lists ${name}`).toContain(name);
  });

  it('lists every exported type in the README too', () => {
    const source = readFileSync(new URL('../../src/index.ts', import.meta.url), 'utf8');
    const types = [
      ...[...source.matchAll(/\btype (\w+)/g)].map((m) => m[1] ?? ''),
      ...[...source.matchAll(/export type \{([^}]*)\}/g)].flatMap((m) =>
        (m[1] ?? '').split(',').map((t) => t.trim()),
      ),
    ].filter((t) => t !== '');
    expect(types.length).toBeGreaterThan(10);
    for (const t of types) expect(exportList, t).toContain(`\`type ${t}\``);
  });

  it('does not load the simulator or the CLI', () => {
    const source = readFileSync(new URL('../../src/index.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/\/sim\/|\/cli\/|\/demo\//);
  });
});
