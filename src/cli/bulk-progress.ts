/**
 * Progress on stderr while the `bulk` and `batch undo` commands wait: the bulk run's bar (or a
 * plain line off a terminal), and the undo's activations as the same lines, each with its done
 * count, smoothed rate and ETA (progress-rate.ts has the arithmetic). Cancelled intents are
 * not work: they count neither in the rate nor as done, and the lines name them apart.
 */
import type { WaitProgress } from '../queue/wait.js';
import type { BatchRecord } from '../store/batch-record.js';
import {
  etaText,
  left,
  progressLine,
  rateEstimator,
  workDone,
  type ProgressCounts,
} from './progress-rate.js';

/** Plain progress lines at most every `everyMs`, and the last one when nothing is left. */
function linePrinter(
  ratePerMinute: number,
  everyMs: number,
  what: string,
): (c: ProgressCounts) => void {
  const estimator = rateEstimator();
  const budget = ratePerMinute > 0 ? ratePerMinute / 60 : Infinity;
  let lastAt = 0;
  let last = '';
  return (c) => {
    const now = Date.now();
    estimator.sample(now, workDone(c));
    const finished = left(c) === 0;
    if (!finished && now - lastAt < everyMs) return;
    const rate = estimator.rate();
    const line = progressLine(c, rate ?? estimator.average(), etaText(left(c), rate, budget), what);
    if (line === last) return;
    lastAt = now;
    last = line;
    process.stderr.write(`${line}\n`);
  };
}

const countsOf = (b: BatchRecord): ProgressCounts => ({
  total: b.total,
  succeeded: b.succeeded,
  failed: b.failed,
  superseded: b.superseded,
  cancelled: b.cancelled,
});

/**
 * Progress while waiting for a bulk run: a bar on a terminal, a plain line every 5 s otherwise.
 * The ETA uses the smoothed rate, never faster than the rate budget allows.
 */
export async function progressView(ratePerMinute: number): Promise<{
  update: (b: BatchRecord) => void;
  stop: () => void;
}> {
  if (!process.stderr.isTTY) {
    const print = linePrinter(ratePerMinute, 5_000, '');
    return {
      update: (b) => {
        print(countsOf(b));
      },
      stop: () => undefined,
    };
  }
  // Loaded only to draw a bar (not for every command of the CLI).
  const cliProgress = (await import('cli-progress')).default;
  const estimator = rateEstimator();
  const budget = ratePerMinute > 0 ? ratePerMinute / 60 : Infinity;
  const bar = new cliProgress.SingleBar(
    {
      format: '{bar} {value}/{total} | {rate}/s | ETA {eta_text} | failed {failed}{cancelled}',
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let barStarted = false;
  return {
    update(b) {
      const c = countsOf(b);
      estimator.sample(Date.now(), workDone(c));
      const rate = estimator.rate();
      const fields = {
        rate: (rate ?? estimator.average()).toFixed(1),
        eta_text: etaText(left(c), rate, budget),
        failed: b.failed,
        cancelled: b.cancelled > 0 ? ` | cancelled ${b.cancelled}` : '',
      };
      const value = workDone(c) + c.cancelled;
      if (!barStarted) {
        bar.start(b.total, value, fields);
        barStarted = true;
      }
      bar.setTotal(b.total);
      bar.update(value, fields);
    },
    stop() {
      bar.stop();
    },
  };
}

/** Progress on stderr while waiting for an undo's activations: a line at most every 2 s. */
export function undoProgress(ratePerMinute: number): (p: WaitProgress) => void {
  return linePrinter(ratePerMinute, 2_000, 'activations');
}
