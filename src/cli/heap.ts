/**
 * The heap policy of the CLI's bulk run. A run holds little (about 20 MB live, most of it the
 * code of its libraries) but BullMQ's add allocates some 10 KB per job that dies young (an
 * allocation profile gave ~1 GB per 100k ids for a bare `addBulk`). V8's
 * default lets the old generation grow to about four times the live size between full
 * collections, so a run of 100k ids peaked near 200 MiB of RSS for 20 MB of live data. At a
 * growth of 50 % it stays at 130-145 MiB. The extra collections cost about 10 % of the run's
 * time with 4 chunks in flight (on a 2-core machine, where the collector's threads and Redis
 * share the cores); 8 chunks in flight (producers/bulk/run.ts) won it back (`npm run
 * bench:bulk-enqueue`, docs/benchmarks.md).
 *
 * Only the CLI's `bulk` command asks for it: a long-running worker or server keeps V8's
 * default. The flag is read at every full collection, so setting it at run time takes effect;
 * it is never set over a `--heap-growing-percent` given to Node by the user.
 */
import { setFlagsFromString } from 'node:v8';

/** Growth of the old generation between full collections, in percent of the live size. */
export const BULK_HEAP_GROWING_PERCENT = 50;

const FLAG = /heap[-_]growing[-_]percent/;

/** Ask V8 for a tighter heap growth, unless Node was given its own. Returns whether it did. */
export function limitHeapGrowth(percent = BULK_HEAP_GROWING_PERCENT): boolean {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => FLAG.test(a));
  if (given) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
