/**
 * src/shutdown.ts: dropping a connection rejects every command waiting on it and leaves no
 * socket, whatever Redis does (ioredis's own disconnect() does neither while it waits to
 * reconnect, nor when Redis is frozen); quitWithin is graceful when Redis answers and bounded
 * when it does not. The leak guard checks that no TCP handle is left after each test.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { dropRedis, quitWithin } from '../../src/shutdown.js';
import { waitFor } from '../support/context.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/throwaway-redis.js';

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
