/**
 * Standard output for commands that stream (a batch report of 100k lines): writes wait for a
 * slow reader instead of buffering the whole report, and a reader that goes away (`| head`)
 * ends the command quietly, as other Unix tools do, instead of an EPIPE stack trace.
 */
import { once } from 'node:events';
import { EXIT_OK } from './exit-codes.js';

/** Write `text` to stdout; resolves once stdout can take more. */
export async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

let installed = false;

/** From now on, a closed stdout (EPIPE) ends the process with exit 0, printing nothing. */
export function exitQuietlyOnClosedPipe(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_OK);
    throw err;
  });
}
