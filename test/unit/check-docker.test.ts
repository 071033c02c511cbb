/** scripts/check-docker.ts: the project's Docker rules pass on the real files, fail on bad copies. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCompose, checkDockerfile, type Finding } from '../../scripts/check-docker.js';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const DOCKERFILE = root('Dockerfile');
const COMPOSE = root('docker-compose.yml');
const dir = mkdtempSync(join(tmpdir(), 'sdx-check-docker-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A copy of `file` in the temp dir with `from` replaced (which must be there). */
function variant(file: string, from: string | RegExp, to: string): string {
  const text = readFileSync(file, 'utf8');
  const changed = text.replace(from, to);
  expect(changed, `${String(from)} not found in ${file}`).not.toBe(text);
  const path = join(dir, `${String(Date.now())}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, changed);
  return path;
}

const rules = (found: Finding[]) => [...new Set(found.map((f) => f.rule))];

describe('check-docker', () => {
  it('passes on the real Dockerfile and docker-compose.yml', () => {
    expect(checkDockerfile(DOCKERFILE)).toEqual([]);
    expect(checkCompose(COMPOSE)).toEqual([]);
  });

  it.each([
    ['non-root-user', /^USER node\n/m, ''],
    ['non-root-user', /^USER node$/m, 'USER root'],
    ['cmd-start', /^CMD \["start"\]$/m, 'CMD ["worker"]'],
    ['healthcheck-healthz', /^HEALTHCHECK [^\n]*\\\n[^\n]*\n/m, ''],
    ['healthcheck-healthz', /^HEALTHCHECK [^\n]*\\\n[^\n]*\n/m, 'HEALTHCHECK NONE\n'],
    ['healthcheck-healthz', "'/healthz'", "'/readyz'"],
    ['dockerfile-utils', /^WORKDIR \/app$/m, 'workdir /app'],
    ['dockerfile-utils', /^EXPOSE 8080$/m, 'EXPOSE eighty'],
  ])('Dockerfile: %s fails (%s → %j)', (rule, from, to) => {
    const found = checkDockerfile(variant(DOCKERFILE, from, to));
    expect(rules(found)).toEqual([rule]);
    expect(found[0]?.line).toBeGreaterThan(0);
  });

  it.each([
    ['redis-noeviction', '--maxmemory-policy', "'noeviction'", "'allkeys-lru'"],
    ['redis-appendonly', '--appendonly', "'--appendonly', 'yes'", "'--appendonly', 'no'"],
    [
      'depends-on-redis',
      'deactivator without depends_on',
      /(deactivator:\n {4}build: \.\n) {4}depends_on:\n(?: {6}.*\n)+?(?= {4}environment)/,
      '$1',
    ],
    [
      'depends-on-redis',
      'redis not healthy',
      /(redis:\n {8}condition:) service_healthy/,
      '$1 service_started',
    ],
  ])('compose: %s fails (%s)', (rule, _what, from, to) => {
    const found = checkCompose(variant(COMPOSE, from, to));
    expect(rules(found)).toEqual([rule]);
  });

  it('exits 1 and names the rule on the command line', () => {
    const run = (...files: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', root('scripts/check-docker.ts'), ...files], {
        encoding: 'utf8',
      });
    expect(run(DOCKERFILE, COMPOSE).status).toBe(0);
    const bad = run(DOCKERFILE, variant(COMPOSE, "'noeviction'", "'volatile-lru'"));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/: \[redis-noeviction\] /);
  });
});
