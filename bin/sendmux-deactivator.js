#!/usr/bin/env node
// In a checkout (src/ present) runs the TypeScript sources through tsx, so a stale dist/ is
// never used by mistake; in the Docker image and the npm package (no src/) runs dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  main = await import(source.href);
} else {
  main = await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
}
process.exitCode = await main.run(process.argv.slice(2));
