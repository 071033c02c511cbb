#!/usr/bin/env node
// In a checkout (src/ present) runs the TypeScript sources through tsx, so a stale dist/ is
// never used by mistake; in the Docker image and the npm package (no src/) runs dist/.
// tsx is a devDependency: a checkout installed with --omit=dev falls back to dist/, saying so.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/src/cli/main.js', import.meta.url);

/** tsx's register(), or undefined when tsx is not installed. */
async function loadTsx() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch (err) {
    const missing =
      err?.code === 'ERR_MODULE_NOT_FOUND' && /['"]tsx['"]|tsx\/esm/.test(String(err.message));
    if (missing) return undefined;
    throw err;
  }
}

async function loadMain() {
  if (!existsSync(fileURLToPath(source))) return import(built.href);
  const register = await loadTsx();
  if (register) {
    register();
    return import(source.href);
  }
  if (existsSync(fileURLToPath(built))) {
    process.stderr.write(
      'sendmux-deactivator: src/ is present but tsx (a devDependency) is not installed, so ' +
        'running the build in dist/, which may be older than src/ (`npm install` to run the ' +
        'sources, `npm run build` to refresh dist/)\n',
    );
    return import(built.href);
  }
  process.stderr.write(
    'sendmux-deactivator: src/ is present but tsx (a devDependency) is not installed, and there ' +
      'is no build in dist/: run `npm install` (sources through tsx) or `npm run build`\n',
  );
  return undefined;
}

const main = await loadMain();
process.exitCode = main ? await main.run(process.argv.slice(2)) : 1;
