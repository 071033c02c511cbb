/**
 * The status page's browser code (./browser/, TypeScript with the DOM lib) bundled by esbuild
 * into the one classic script the page loads (/status.js: an IIFE, no imports, so the CSP's
 * `script-src 'self'` is all it needs). Used at build time (scripts/build-status-page.ts, the
 * second step of `npm run build`) and, run from source, by script.ts at the first request.
 * esbuild is a devDependency: it is imported here only when called, never by a production
 * install (which serves the prebuilt file).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The bundle's file name, next to the compiled script.js (dist/src/http/status-page/). */
export const STATUS_BUNDLE = 'status.js';

const ENTRY = new URL('./browser/main.ts', import.meta.url);

/** The bundled script, as text. */
export async function bundleStatusScript(): Promise<string> {
  const entry = fileURLToPath(ENTRY);
  if (!existsSync(entry)) {
    // dist/ compiled by tsc alone: no bundle, and the sources are not there to make one.
    throw new Error(
      `the status page's script is not built (no ${STATUS_BUNDLE} beside the server, no ${entry}): run \`npm run build\``,
    );
  }
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    charset: 'utf8',
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error('esbuild gave no output for the status page');
  return file.text;
}
