#!/usr/bin/env node
/**
 * Removes from a production install (`npm ci --omit=dev`) the packages nothing needs at run
 * time: every package reachable only through the names given (and their own dependencies), as
 * package-lock.json resolves them. The Dockerfile's runtime stage runs it:
 *
 *   node scripts/prune-runtime.mjs typescript              (always: a peer of valibot, through
 *                                                           @bull-board/api; never loaded)
 *   node scripts/prune-runtime.mjs @opentelemetry/sdk-node (unless the image is built with
 *                                                           --build-arg TRACING=1)
 *
 * A package still reached from the project's other dependencies is kept. Prints what it removed
 * and how much; run in the directory holding package-lock.json and node_modules.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const drop = new Set(process.argv.slice(2));
if (drop.size === 0) {
  console.error('usage: node scripts/prune-runtime.mjs <package name>...');
  process.exit(2);
}
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const packages = lock.packages;
const root = packages[''];

/** Where `name` resolves from the package at `from` (node's walk up the node_modules dirs). */
function resolve(name, from) {
  let dir = from;
  for (;;) {
    const at = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (packages[at] && !packages[at].dev) return at;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

const keep = new Set();
const todo = [''];
while (todo.length > 0) {
  const at = todo.pop();
  const p = packages[at];
  const names = {
    ...p.dependencies,
    ...p.optionalDependencies,
    ...p.peerDependencies,
  };
  for (const name of Object.keys(names)) {
    if (drop.has(name)) continue;
    const found = resolve(name, at);
    if (found && !keep.has(found)) {
      keep.add(found);
      todo.push(found);
    }
  }
}
void root;

const removed = [];
for (const [at, p] of Object.entries(packages)) {
  if (at === '' || p.dev || keep.has(at) || !existsSync(at)) continue;
  removed.push(at);
}
const size = (paths) =>
  paths.length === 0
    ? 0
    : Number(
        execFileSync('du', ['-sk', '-c', ...paths])
          .toString()
          .trim()
          .split('\n')
          .pop()
          .split('\t')[0],
      );
const kb = size(removed);
for (const at of removed) rmSync(at, { recursive: true, force: true });
console.log(
  `prune-runtime: removed ${removed.length} packages (${(kb / 1024).toFixed(1)} MiB) reached only through ${[...drop].join(', ')}`,
);
