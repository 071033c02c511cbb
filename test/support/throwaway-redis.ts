/** A private redis-server on a free port, for restart and configuration tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  freeLoopbackPort,
  startRedisServer,
  type RedisServer,
} from '../../src/redis/redis-server.js';

export interface ThrowawayRedis {
  url: string;
  /** Stop (SIGKILL: no graceful save) and start again on the same port and data dir. */
  restart(downMs?: number): Promise<void>;
  /** Freeze the server (SIGSTOP): connections stay open, nothing is answered. */
  freeze(): void;
  /** Let a frozen server go on (SIGCONT). */
  thaw(): void;
  /** Kill the server (SIGKILL), keeping its port and data dir for {@link ThrowawayRedis.revive}. */
  kill(): Promise<void>;
  /** Start a killed server again on the same port and data dir. */
  revive(): Promise<void>;
  stop(): Promise<void>;
}

/** `args` go to redis-server after `--save ''` (e.g. AOF settings); kept across restarts. */
export async function startThrowawayRedis(args: readonly string[] = []): Promise<ThrowawayRedis> {
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'sdx-redis-'));
  const start = () => startRedisServer({ port, dir, args: ['--save', '', ...args] });
  let server: RedisServer;
  try {
    server = await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: server.url,
    async restart(downMs = 500) {
      await server.stop('SIGKILL');
      await sleep(downMs);
      server = await start();
    },
    freeze() {
      process.kill(server.pid, 'SIGSTOP');
    },
    thaw() {
      process.kill(server.pid, 'SIGCONT');
    },
    async kill() {
      await server.stop('SIGKILL');
    },
    async revive() {
      server = await start();
    },
    async stop() {
      // SIGKILL ends a frozen (SIGSTOPped) server too.
      await server.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
