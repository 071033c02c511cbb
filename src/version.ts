/**
 * The package version, read from package.json at run time so it is written once. This file runs
 * as src/version.ts (tsx, a checkout: package.json is one level up) or as dist/src/version.js
 * (the build, the Docker image, the npm package: two levels up).
 */
import { readFileSync } from 'node:fs';

const PACKAGE_NAME = 'sendmux-deactivator';

/** Reads `version` from the first of `candidates` that is this package's package.json. */
export function readPackageVersion(
  candidates: readonly URL[] = [
    new URL('../package.json', import.meta.url),
    new URL('../../package.json', import.meta.url),
  ],
): string {
  for (const url of candidates) {
    let pkg: unknown;
    try {
      pkg = JSON.parse(readFileSync(url, 'utf8'));
    } catch {
      continue;
    }
    if (typeof pkg === 'object' && pkg !== null) {
      const { name, version } = pkg as { name?: unknown; version?: unknown };
      if (name === PACKAGE_NAME && typeof version === 'string') return version;
    }
  }
  throw new Error(
    `cannot find ${PACKAGE_NAME}'s package.json next to ${import.meta.url} (looked at ${candidates.map((u) => u.href).join(', ')})`,
  );
}

export const VERSION = readPackageVersion();
