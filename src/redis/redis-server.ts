/**
 * A `redis-server` child process on a loopback port, for the demo and the tests: started from
 * PATH, ready once it answers PING, and a clear error (with its last output) when it does not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/** `redis-server` is not on the PATH the child was started with. */
export class RedisServerNotFoundError extends Error {
  override readonly name = 'RedisServerNotFoundError';
}

/** `redis-server` started but exited, or did not answer PING in time. */
export class RedisServerStartError extends Error {
  override readonly name = 'RedisServerStartError';
}

export type PingResult = { ok: true } | { ok: false; reason: string };

/**
 * One PING with a deadline: no retries, no offline queue, no "Unhandled error event" noise.
 * Never throws; the reason says why Redis did not answer.
 */
export async function pingRedis(url: string, timeoutMs = 1_000): Promise<PingResult> {
  const answer = await ask(url, timeoutMs, (redis) => redis.ping());
  return answer.ok ? { ok: true } : answer;
}

/** The pid of the redis-server answering at `url` (INFO server), or undefined. */
async function answeringPid(url: string, timeoutMs: number): Promise<number | undefined> {
  const answer = await ask(url, timeoutMs, (redis) => redis.info('server'));
  const pid = answer.ok ? /^process_id:(\d+)/m.exec(answer.value)?.[1] : undefined;
  return pid === undefined ? undefined : Number(pid);
}

type Answer<T> = { ok: true; value: T } | { ok: false; reason: string };

/** One question on a short-lived connection, with a deadline; never throws. */
async function ask<T>(
  url: string,
  timeoutMs: number,
  question: (redis: Redis) => Promise<T>,
): Promise<Answer<T>> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The error event says why (ECONNREFUSED ...); the rejection only says the connection closed.
  let lastError: string | undefined;
  redis.on('error', (err: Error) => (lastError = err.message));
  try {
    const value = await withTimeout(
      redis.connect().then(() => question(redis)),
      timeoutMs,
      `no answer within ${timeoutMs} ms`,
    );
    return { ok: true, value };
  } catch (err) {
    return { ok: false, reason: lastError ?? (err instanceof Error ? err.message : String(err)) };
  } finally {
    // disconnect() on a connection that already ended leaves a 2 s timer holding the process.
    if (redis.status !== 'end') redis.disconnect();
  }
}

/** `work`, or a rejection with `message` after `ms`; the timer never outlives the race. */
async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  work.catch(() => undefined); // a late rejection after the timeout is not unhandled
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(message));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A port that was free on 127.0.0.1 a moment ago. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no free loopback port');
  return address.port;
}

export interface RedisServerOptions {
  port: number;
  /** Working directory (`--dir`): RDB/AOF files land here. */
  dir: string;
  /** More `redis-server` arguments, e.g. `['--appendonly', 'yes']`. */
  args?: readonly string[];
  /** The child's environment; `redis-server` is looked up on its PATH. @defaultValue `process.env` */
  env?: NodeJS.ProcessEnv;
  /** @defaultValue 5000 */
  readyTimeoutMs?: number;
}

export interface RedisServer {
  url: string;
  pid: number;
  /** Stop the server (default SIGKILL: no graceful save) and wait for it to exit. Idempotent. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

const OUTPUT_TAIL_CHARS = 2_000;

/**
 * Start `redis-server --port P --bind 127.0.0.1 --dir D ...args` and wait until it answers
 * (checked by its pid, so a server that already held the port does not count).
 * Throws {@link RedisServerNotFoundError} when it is not on PATH, {@link RedisServerStartError}
 * (with the server's last output) when it exits or stays silent for `readyTimeoutMs`.
 */
export async function startRedisServer(options: RedisServerOptions): Promise<RedisServer> {
  const args = ['--port', String(options.port), '--bind', '127.0.0.1', '--dir', options.dir];
  const child = spawn('redis-server', [...args, ...(options.args ?? [])], {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let spawnError: NodeJS.ErrnoException | undefined;
  child.on('error', (err) => (spawnError ??= err));
  // A server outliving this process would hold its port and directory: kill it on exit.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const forget = () => process.removeListener('exit', killOnExit);
  child.once('exit', forget);
  child.once('error', forget);

  const url = `redis://127.0.0.1:${options.port}`;
  const stop = (signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL') => stopChild(child, signal);
  try {
    await waitUntilAnswering(child, url, options.readyTimeoutMs ?? 5_000, () => spawnError);
  } catch (err) {
    await stop();
    if (spawnError?.code === 'ENOENT') {
      throw new RedisServerNotFoundError('redis-server is not on PATH');
    }
    const tail = output.trim();
    throw new RedisServerStartError(
      `${err instanceof Error ? err.message : String(err)}${tail ? `; its last output:\n${tail}` : ' (no output)'}`,
    );
  }
  return { url, pid: child.pid ?? -1, stop };
}

async function waitUntilAnswering(
  child: ChildProcess,
  url: string,
  timeoutMs: number,
  spawnError: () => Error | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failed = spawnError();
    if (failed) throw failed;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `redis-server (${url}) exited (${child.exitCode ?? child.signalCode ?? '?'}) before answering PING`,
      );
    }
    // Our child, not another server that held the port first (its child then exits).
    const pid = await answeringPid(url, 500);
    if (pid !== undefined && pid === child.pid) return;
    if (Date.now() > deadline) {
      throw new Error(`redis-server (${url}) did not answer PING within ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}

async function stopChild(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  try {
    await withTimeout(exited, 5_000, 'redis-server did not exit');
  } catch {
    child.kill('SIGKILL');
    await exited;
  }
}
