/**
 * The second step of `npm run build` (after tsc): bundles the status page's browser code and
 * writes it next to the compiled server, dist/src/http/status-page/status.js, where
 * src/http/status-page/script.ts reads it. Run by tsx (a devDependency, as esbuild is).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STATUS_BUNDLE, bundleStatusScript } from '../src/http/status-page/bundle.js';

const dir = fileURLToPath(new URL('../dist/src/http/status-page/', import.meta.url));
mkdirSync(dir, { recursive: true });
const text = await bundleStatusScript();
writeFileSync(dir + STATUS_BUNDLE, text);
console.log(`${dir}${STATUS_BUNDLE}: ${Buffer.byteLength(text)} bytes`);
