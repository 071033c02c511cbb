/**
 * Standard output for commands that stream (a batch report of 100k lines): writes wait for a
 * slow reader instead of buffering the whole report, and a reader that goes away (`| head`)
 * ends the command quietly, as other Unix tools do, instead of an EPIPE stack trace. Only
 * commands that write through {@link writeOut} get that: a long-running `worker` or `start`
 * must not end with exit 0 because its stdout went away.
 */
import { once } from 'node:events';
import { EXIT_OK } from './exit-codes.js';

let installed = false;

/** Write `text` to stdout; resolves once stdout can take more. */
export async function writeOut(text: string): Promise<void> {
  if (!installed) {
    installed = true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT_OK);
      throw err;
    });
  }
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}
