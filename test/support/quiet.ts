/**
 * "Nothing more happens", shown by a condition that would be seen if something did happen,
 * never by a fixed sleep: a queue with no job left to run (so whatever was to come has come),
 * a consumer group that has read and acknowledged every entry of its stream.
 */
import type { RedisClient } from '../../src/redis/connect.js';
import { waitFor } from './context.js';

/** Job states that mean work is still to come (or under way). */
const BUSY = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused'] as const;

interface CountsJobs {
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

/** Wait until `queue` holds no job in any of `states`. */
async function waitUntilNoJob(
  queue: CountsJobs,
  states: readonly string[],
  timeoutMs: number,
  waitingFor: string,
): Promise<void> {
  await waitFor(
    async () => {
      const counts = await queue.getJobCounts(...states);
      return states.every((s) => (counts[s] ?? 0) === 0) || undefined;
    },
    timeoutMs,
    waitingFor,
  );
}

/**
 * Wait until `queue` holds no job waiting, delayed (a retry, a put-back) or active: every job
 * added so far is finished for good and no worker holds one.
 */
export async function waitUntilDrained(
  queue: CountsJobs,
  timeoutMs = 20_000,
  what = 'the queue',
): Promise<void> {
  await waitUntilNoJob(queue, BUSY, timeoutMs, `${what} to be drained`);
}

/** Job states of a job to run now or being run (not the delayed ones). */
const DUE = ['waiting', 'active', 'prioritized', 'waiting-children'] as const;

/**
 * Wait until `queue` holds no job due or being run (delayed jobs, due later, are left): every
 * job due so far is finished.
 */
export async function waitUntilNoneDue(
  queue: CountsJobs,
  timeoutMs = 20_000,
  what = 'the queue',
): Promise<void> {
  await waitUntilNoJob(queue, DUE, timeoutMs, `${what} to have no job due`);
}

/** A flat [name, value, ...] reply as an object. */
function fields(reply: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}

/**
 * Whether `group` has read every entry of `stream` and acknowledged each: the last entry
 * delivered to the group is the stream's last, and nothing is pending.
 */
export async function groupCaughtUp(
  redis: RedisClient,
  stream: string,
  group: string,
): Promise<boolean> {
  const info = fields((await redis.call('XINFO', 'STREAM', stream)) as unknown[]);
  const groups = ((await redis.call('XINFO', 'GROUPS', stream)) as unknown[][]).map(fields);
  const g = groups.find((x) => x.name === group);
  return (
    g !== undefined &&
    Number(g.pending) === 0 &&
    g['last-delivered-id'] === info['last-generated-id']
  );
}

/**
 * Wait until the consumer group has handled every entry of the stream (see groupCaughtUp),
 * then until `queue`, which it feeds, is drained: every job the entries make is finished.
 */
export async function waitUntilForwarded(
  redis: RedisClient,
  stream: string,
  group: string,
  queue: CountsJobs,
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(
    async () => (await groupCaughtUp(redis, stream, group)) || undefined,
    timeoutMs,
    `group ${group} to catch up with ${stream}`,
  );
  await waitUntilDrained(queue, timeoutMs);
}
