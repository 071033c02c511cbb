/**
 * Progress on stderr while the `bulk` and `batch undo` commands wait: the bulk run's bar (or a
 * plain line off a terminal) with its rate and ETA, and the undo's activations line.
 */
import type { WaitProgress } from '../queue/wait.js';
import type { BatchRecord } from '../store/batch-record.js';

/**
 * Progress while waiting: a bar on a terminal, a plain line every 5 s otherwise. The ETA uses
 * the observed rate, never faster than the rate budget allows.
 */
export async function progressView(ratePerMinute: number): Promise<{
  update: (b: BatchRecord) => void;
  stop: () => void;
}> {
  const tty = process.stderr.isTTY;
  // Loaded only to draw a bar (not for every command of the CLI).
  const cliProgress = tty ? (await import('cli-progress')).default : undefined;
  const started = Date.now();
  let firstDone: number | undefined;
  let lastLine = 0;
  const bar = cliProgress
    ? new cliProgress.SingleBar(
        {
          format: '{bar} {value}/{total} | {rate}/s | ETA {eta_text} | failed {failed}',
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let barStarted = false;
  return {
    update(b) {
      const done = b.total - b.queued;
      firstDone ??= done;
      const elapsedS = Math.max(0.001, (Date.now() - started) / 1000);
      const observed = (done - firstDone) / elapsedS;
      const budget = ratePerMinute > 0 ? ratePerMinute / 60 : Infinity;
      const rate = Math.min(observed > 0 ? observed : budget, budget);
      const left = b.total - done;
      const eta = Number.isFinite(rate) && rate > 0 ? formatDuration(left / rate) : '?';
      const fields = { rate: observed.toFixed(1), eta_text: eta, failed: b.failed };
      if (bar) {
        if (!barStarted) {
          bar.start(b.total, done, fields);
          barStarted = true;
        }
        bar.setTotal(b.total);
        bar.update(done, fields);
        return;
      }
      const now = Date.now();
      if (now - lastLine < 5_000 && done < b.total) return;
      lastLine = now;
      process.stderr.write(
        `progress: ${done}/${b.total} done (${b.succeeded} succeeded, ${b.failed} failed), ${fields.rate}/s, ETA ${eta}\n`,
      );
    },
    stop() {
      bar?.stop();
    },
  };
}

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

/** Progress on stderr while waiting for the activations: at most a line every 2 s. */
export function undoProgress(): (p: WaitProgress) => void {
  let last = '';
  let lastAt = 0;
  return (p) => {
    const done = p.succeeded + p.failed + p.superseded + p.cancelled;
    const line = `progress: ${done}/${p.total} activations done (${p.succeeded} succeeded, ${p.failed} failed)`;
    const now = Date.now();
    if (line === last || (now - lastAt < 2_000 && done < p.total)) return;
    last = line;
    lastAt = now;
    process.stderr.write(`${line}\n`);
  };
}
