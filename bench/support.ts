/** Small pieces the benchmarks share: option checking and a free loopback port. */
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A `--name` option as a positive integer; otherwise says so (naming the bench) and exits 2. */
export function positiveOption(bench: string) {
  return (name: string, raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      console.error(`bench:${bench}: --${name} must be a positive integer`);
      process.exit(2);
    }
    return n;
  };
}

/** A loopback port free right now (for a server started in another process). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}
