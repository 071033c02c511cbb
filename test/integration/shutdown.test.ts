/**
 * src/shutdown.ts: dropping a connection rejects every command waiting on it and leaves no
 * socket, whatever Redis does (ioredis's own disconnect() does neither while it waits to
 * reconnect, nor when Redis is frozen); quitWithin is graceful when Redis answers and bounded
 * when it does not. The leak guard checks that no TCP handle is left after each test.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { dropRedis, quitWithin } from '../../src/shutdown.js';
import { waitFor } from '../support/context.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/throwaway-redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let server: ThrowawayRedis | undefined;
let redis: Redis | undefined;
afterEach(async () => {
  if (redis) dropRedis(redis);
  await server?.stop();
  server = redis = undefined;
});

/** What `command` came to within `ms`: its rejection message, 'ok', or 'pending'. */
async function outcome(command: Promise<unknown>, ms: number): Promise<string> {
  return Promise.race([
    command.then(
      () => 'ok',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    ),
    sleep(ms, 'pending'),
  ]);
}

async function connected(): Promise<Redis> {
  server = await startThrowawayRedis();
  const r = new Redis(server.url, { maxRetriesPerRequest: null });
  r.on('error', () => undefined);
  await r.ping();
  return r;
}

describe('dropRedis', () => {
  it('Redis down: rejects a blocking read queued while ioredis waits to reconnect', async () => {
    redis = await connected();
    await server?.kill();
    await waitFor(() => (redis?.status === 'reconnecting' ? true : undefined), 5_000);
    const read = redis.blpop('sdx-shutdown-test', 0);
    expect(await outcome(read, 200)).toBe('pending'); // in the offline queue, for good
    dropRedis(redis);
    expect(await outcome(read, 1_000)).toBe('Connection is closed.');
  });

  it('Redis frozen: rejects a command in flight and closes the socket', async () => {
    redis = await connected();
    server?.freeze();
    const get = redis.get('sdx-shutdown-test');
    expect(await outcome(get, 200)).toBe('pending'); // sent, never answered
    const droppedAt = Date.now();
    dropRedis(redis);
    expect(await outcome(get, 1_000)).toBe('Connection is closed.');
    // Now, not after the 2 s ioredis gives an unanswered FIN before it destroys the socket.
    await waitFor(() => (redis?.status === 'end' ? true : undefined), 2_000);
    expect(Date.now() - droppedAt).toBeLessThan(1_500);
  });
});

describe('dropRedis in a process of its own', () => {
  /** A process that connects, drops its connection once Redis is down, and should then end. */
  const CHILD = `
    const { Redis } = await import('ioredis');
    const { dropRedis } = await import('./src/shutdown.ts');
    const redis = new Redis(process.env.URL, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    await redis.ping();
    console.log('connected');
    while (redis.status !== 'reconnecting') await new Promise((r) => setTimeout(r, 10));
    dropRedis(redis);
    console.log('dropped');
  `;

  it('Redis down: nothing is left to hold the process (no 2 s disconnect timer)', async () => {
    server = await startThrowawayRedis();
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: ROOT,
      env: { ...process.env, URL: server.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    let out = '';
    let droppedAt = 0;
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (droppedAt === 0 && out.includes('dropped')) droppedAt = Date.now();
    });
    await waitFor(() => (out.includes('connected') ? true : undefined), 20_000);
    await server.kill();
    expect(await exited).toEqual([0, null]);
    // At once, not after ioredis's 2 s disconnectTimeout on a socket already closed.
    expect(Date.now() - droppedAt).toBeLessThan(1_000);
  });
});

describe('quitWithin', () => {
  it('Redis up: quits gracefully, after the replies to what was sent', async () => {
    redis = await connected();
    const set = redis.set('sdx-shutdown-test', '1', 'EX', 10);
    expect(await quitWithin(redis, 2_000)).toBe(true);
    expect(await set).toBe('OK');
    await waitFor(() => (redis?.status === 'end' ? true : undefined), 2_000);
  });

  it('Redis frozen: gives up after the time given, and drops the connection', async () => {
    redis = await connected();
    server?.freeze();
    const startedAt = Date.now();
    expect(await quitWithin(redis, 300)).toBe(false);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    await waitFor(() => (redis?.status === 'end' ? true : undefined), 2_000);
  });
});
