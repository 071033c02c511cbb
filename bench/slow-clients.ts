/**
 * Slow clients against the real server: `start` (worker + HTTP server, against the simulator)
 * or `serve`, in its own process, on loopback. Opens N connections that each do one of:
 *
 *   headers   send a request line, then one header byte every --every seconds (never finishes)
 *   body      send the headers and 256 KiB of a webhook body, withholding its last bytes
 *   idle      connect and send nothing
 *
 * and prints, every --sample seconds, how many of them the server still holds open, and the
 * server's RSS and open file descriptors (/proc/<pid>). `--lax` starts the server with the old
 * behaviour (no header/request timeout to speak of, no connection cap): the "before" figures.
 *
 *   npm run bench:slow-clients -- [--mode headers|body|idle] [--connections 300] [--every 10]
 *     [--duration 40] [--sample 5] [--target start|serve] [--lax]
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379); uses a prefix of its own, dropped
 * at the end. Issue 18 part 2 (figures in docs/reliability.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startSimulator } from '../src/sim/index.js';
import { dropPrefix } from '../src/store/drop-prefix.js';
import { freePort, positiveOption } from './support.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'headers' },
    connections: { type: 'string', default: '300' },
    every: { type: 'string', default: '10' },
    duration: { type: 'string', default: '40' },
    sample: { type: 'string', default: '5' },
    target: { type: 'string', default: 'start' },
    lax: { type: 'boolean', default: false },
  },
});
const positive = positiveOption('slow-clients');
const MODE = values.mode;
if (MODE !== 'headers' && MODE !== 'body' && MODE !== 'idle') {
  console.error('bench:slow-clients: --mode must be headers, body or idle');
  process.exit(2);
}
const TARGET = values.target;
if (TARGET !== 'start' && TARGET !== 'serve') {
  console.error('bench:slow-clients: --target must be start or serve');
  process.exit(2);
}
const CONNECTIONS = positive('connections', values.connections);
const EVERY_S = positive('every', values.every);
const DURATION_S = positive('duration', values.duration);
const SAMPLE_S = positive('sample', values.sample);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BODY_BYTES = 256 * 1024;
/** The old behaviour: node's 60 s header timeout at most, nothing else. */
const LAX = {
  HTTP_HEADERS_TIMEOUT_MS: '600000',
  HTTP_REQUEST_TIMEOUT_MS: '600000',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: '600000',
  HTTP_MAX_CONNECTIONS: '1000000',
};

function procStatus(pid: number): { rssMb: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb / 1024), fds: readdirSync(`/proc/${pid}/fd`).length };
}

interface Conn {
  socket: Socket;
  open: boolean;
  /** Closed before it received or sent a byte: refused at the cap. */
  refused: boolean;
  got408: boolean;
}

function open(port: number): Conn {
  const socket = connect({ port, host: '127.0.0.1' });
  const conn: Conn = { socket, open: true, refused: false, got408: false };
  let sent = false;
  let received = false;
  socket.on('error', () => undefined);
  socket.on('data', (b: Buffer) => {
    received = true;
    if (b.toString('latin1').startsWith('HTTP/1.1 408')) conn.got408 = true;
  });
  socket.on('close', () => {
    conn.open = false;
    conn.refused = !received && (!sent || MODE === 'idle');
  });
  socket.on('connect', () => {
    if (MODE === 'idle') return;
    sent = true;
    if (MODE === 'headers') {
      socket.write('POST /webhooks/sendmux HTTP/1.1\r\nHost: bench\r\n');
      const timer = setInterval(() => {
        if (!conn.open) clearInterval(timer);
        else socket.write('x');
      }, EVERY_S * 1000);
      socket.on('close', () => {
        clearInterval(timer);
      });
    } else {
      socket.write(
        `POST /webhooks/sendmux HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`,
      );
      socket.write(Buffer.alloc(BODY_BYTES - 16, 'a'));
    }
  });
  return conn;
}

async function waitHealthy(port: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error(`no server on port ${port}`);
}

async function main(): Promise<void> {
  const prefix = `{bench-slow-${randomUUID().slice(0, 8)}}`;
  const sim = await startSimulator({ accounts: 5, rateLimit: 0 });
  const port = await freePort();
  const server: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/sendmux-deactivator.js'),
      TARGET,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        LOG_LEVEL: 'error',
        SENDMUX_BASE_URL: sim.url,
        SENDMUX_API_KEY: 'smx_root_sim_key',
        SENDMUX_WEBHOOK_SECRET: 'bench-slow-secret',
        ...(values.lax ? LAX : {}),
      },
    },
  );
  const pid = server.pid ?? 0;
  try {
    await waitHealthy(port);
    await sleep(1_000);
    const before = procStatus(pid);
    console.log(
      `bench:slow-clients ${TARGET}${values.lax ? ' (--lax: the old limits)' : ''}: ${CONNECTIONS} connections, mode ${MODE}${MODE === 'headers' ? ` (a byte every ${EVERY_S} s)` : ''}`,
    );
    console.log(`server before: RSS ${before.rssMb} MB, ${before.fds} fds`);
    const started = performance.now();
    const conns: Conn[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      conns.push(open(port));
      if (i % 100 === 99) await sleep(10);
    }
    let peakRss = before.rssMb;
    let peakHeld = 0;
    console.log('    t (s) | held | refused | 408s | server RSS (MB) | server fds | /healthz');
    for (let t = 0; t <= DURATION_S; t += SAMPLE_S) {
      const wait = started + t * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
      const now = procStatus(pid);
      const held = conns.filter((c) => c.open).length;
      const refused = conns.filter((c) => c.refused).length;
      const timedOut = conns.filter((c) => c.got408).length;
      const health = await fetch(`http://127.0.0.1:${port}/healthz`, {
        signal: AbortSignal.timeout(2_000),
      })
        .then((r) => String(r.status))
        .catch(() => 'no answer');
      peakRss = Math.max(peakRss, now.rssMb);
      peakHeld = Math.max(peakHeld, held);
      console.log(
        `${String(t).padStart(9)} | ${String(held).padStart(4)} | ${String(refused).padStart(7)} | ${String(timedOut).padStart(4)} | ${String(now.rssMb).padStart(15)} | ${String(now.fds).padStart(10)} | ${health}`,
      );
    }
    const held = conns.filter((c) => c.open).length;
    console.log(
      `summary: peak held ${peakHeld}/${CONNECTIONS}, held at ${DURATION_S} s ${held}, refused at the cap ${conns.filter((c) => c.refused).length}, answered 408 ${conns.filter((c) => c.got408).length}; server RSS ${before.rssMb} -> peak ${peakRss} MB`,
    );
    for (const c of conns) c.socket.destroy();
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit');
    await sim.close();
    const redis = new Redis(REDIS_URL);
    await dropPrefix(redis, prefix);
    await redis.quit();
  }
}

await main();
