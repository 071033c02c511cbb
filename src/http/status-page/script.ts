/**
 * The status page's script (served as /status.js): the TypeScript in ./browser/, bundled by
 * esbuild (bundle.ts). Where the text comes from:
 * - built (`npm run build`, so dist/, the npm package and the Docker image): the bundle written
 *   next to this module's compiled file, dist/src/http/status-page/status.js, read once;
 * - run from source (tsx: the tests, `npm run demo`, bin/ in a checkout): there is no status.js
 *   next to script.ts, so the first request bundles ./browser/ in memory, once per process
 *   (about 20 ms). That path needs esbuild, a devDependency, which is there wherever tsx is.
 * `tsc -p tsconfig.build.json` alone writes no bundle: /status.js then answers 500 saying to run
 * `npm run build`.
 */
import { readFile } from 'node:fs/promises';
import { STATUS_BUNDLE, bundleStatusScript } from './bundle.js';

const PREBUILT = new URL(`./${STATUS_BUNDLE}`, import.meta.url);

/** The prebuilt bundle at `prebuilt` if there is one, else a bundle made now. */
export async function readStatusScript(prebuilt: URL = PREBUILT): Promise<string> {
  try {
    return await readFile(prebuilt, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return bundleStatusScript();
}

let loading: Promise<string> | undefined;

/** The script, read or bundled at the first call (a failed attempt is tried again next time). */
export function statusScript(): Promise<string> {
  loading ??= readStatusScript().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}
