/** Redis connections and start-up checks. */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ClusterNode } from '../config.js';
import type { Logger } from '../logger.js';

/** While Redis stays unreachable, how often to say so again. */
const STILL_WAITING_LOG_MS = 10_000;

/** Query-string options of a Redis URL that hold a secret (ioredis reads `?password=`). */
const SECRET_PARAM = /pass|secret|token/i;

/** A Redis URL without its password (in the userinfo or the query string), for messages. */
export function safeRedisUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    for (const name of new Set(url.searchParams.keys())) {
      if (SECRET_PARAM.test(name)) url.searchParams.set(name, '***');
    }
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * A connection to the deployment's Redis: a plain `Redis`, or a `Cluster` client when
 * REDIS_CLUSTER_NODES is set. Both answer the same commands (ioredis's `Commander`); every key
 * of a deployment shares the prefix's hash tag, so a Cluster client sends all of them, scripts
 * and pipelines included, to the one node that owns the slot, and follows MOVED / ASK /
 * TRYAGAIN when the slot moves. Code that needs the class itself (a new connection with other
 * options) uses {@link createRedis} again rather than `duplicate()`.
 */
export type RedisClient = Redis | Cluster;

/** Where the deployment's Redis is: REDIS_URL, and REDIS_CLUSTER_NODES when it is a Cluster. */
export interface RedisTarget {
  redisUrl: string;
  redisClusterNodes?: readonly ClusterNode[] | undefined;
}

/**
 * How long a Cluster client keeps retrying a command answered TRYAGAIN (a multi-key command
 * or script whose keys are split between two nodes while the slot migrates) or redirected:
 * 300 redirections, 100 ms apart for TRYAGAIN, is half a minute.
 */
const CLUSTER_MAX_REDIRECTIONS = 300;

/**
 * A connection for this project's stores and for BullMQ: a Cluster client when `target` names
 * cluster nodes, else a plain Redis at the URL.
 * `maxRetriesPerRequest: null` is what BullMQ workers require; producers may pass a number to
 * fail fast instead of waiting for Redis forever.
 */
export function createRedis(
  target: string | RedisTarget,
  options: RedisOptions = {},
  log?: Logger,
): RedisClient {
  const url = typeof target === 'string' ? target : target.redisUrl;
  const nodes = typeof target === 'string' ? undefined : target.redisClusterNodes;
  const all: RedisOptions = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: false,
    ...options,
  };
  const cluster = nodes !== undefined && nodes.length > 0;
  const redis: RedisClient = cluster ? newCluster(nodes, url, all) : new Redis(url, all);
  const where = cluster
    ? `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(',')}`
    : safeRedisUrl(url);
  // ioredis reconnects by itself; without a listener it prints "Unhandled error event".
  // Commands that fail meanwhile reject to their callers, so a log line is all that is needed.
  let lastMessage = '';
  let lastLoggedAt = 0;
  redis.on('error', (err: Error) => {
    // One line per distinct problem, and a reminder while it lasts, not a line per retry.
    const now = Date.now();
    if (err.message === lastMessage && now - lastLoggedAt < STILL_WAITING_LOG_MS) return;
    const again = err.message === lastMessage;
    lastMessage = err.message;
    lastLoggedAt = now;
    log?.warn(
      { err: err.message, redis: where },
      again ? 'still waiting for Redis (reconnecting)' : 'Redis connection error (reconnecting)',
    );
  });
  redis.on('ready', () => {
    if (lastMessage !== '') log?.info('Redis connection restored');
    lastMessage = '';
  });
  return redis;
}

function newCluster(nodes: readonly ClusterNode[], url: string, options: RedisOptions): Cluster {
  const made: { cluster?: Cluster } = {};
  const cluster = new Cluster(
    [...nodes],
    clusterOptions(url, options, () => made.cluster),
  );
  made.cluster = cluster;
  return closesEveryNode(cluster);
}

/**
 * A Cluster client closed (quit or disconnect) while a command of it is still being redirected
 * (MOVED, ASK) opens a connection to the node it is sent to after the close, and nothing closes
 * that one: every node connection made after the close is closed at once, and a quit ends with
 * whatever node connection is left. The same for its duplicates (BullMQ's blocking connections).
 */
function closesEveryNode(cluster: Cluster): Cluster {
  let closing = false;
  cluster.on('+node', (node: Redis) => {
    if (closing) node.disconnect();
  });
  const sweep = () => {
    for (const node of cluster.nodes()) if (node.status !== 'end') node.disconnect();
  };
  const quit = cluster.quit.bind(cluster, undefined);
  const disconnect = cluster.disconnect.bind(cluster);
  const duplicate = cluster.duplicate.bind(cluster);
  Object.assign(cluster, {
    quit: async (): Promise<'OK'> => {
      closing = true;
      try {
        return await quit();
      } finally {
        sweep();
      }
    },
    disconnect: (reconnect = false) => {
      if (!reconnect) closing = true;
      disconnect(reconnect);
    },
    duplicate: (...args: Parameters<Cluster['duplicate']>) => closesEveryNode(duplicate(...args)),
  });
  return cluster;
}

/** ioredis's delay between attempts to reach a cluster (its default strategy). */
const clusterRetryDelay = (times: number) => Math.min(100 + times * 2, 2_000);

/**
 * A Cluster client's options from the URL (credentials and TLS only: the seed nodes say where)
 * and a plain connection's options. Options about the client as a whole (offline queue, ready
 * check, lazy connect) are the Cluster's; the rest (retries per request, timeouts,
 * credentials) go to its connection to each node. A plain connection with a numeric
 * `maxRetriesPerRequest` fails its commands after that many reconnection attempts and keeps
 * reconnecting; a Cluster client would keep them queued while no node answers, so past as
 * many attempts to reach the cluster its queued commands fail the same way (it keeps trying).
 */
function clusterOptions(
  url: string,
  options: RedisOptions,
  self: () => Cluster | undefined,
): ClusterOptions {
  const { enableOfflineQueue, enableReadyCheck, lazyConnect, retryStrategy, ...perNode } = options;
  const retry = retryStrategy ?? clusterRetryDelay;
  const limit = options.maxRetriesPerRequest;
  const clusterRetryStrategy = (times: number) => {
    const cluster = self() as { flushQueue?: (err: Error) => void } | undefined;
    if (typeof limit === 'number' && times > limit && cluster?.flushQueue) {
      const err = new Error(
        `Reached the max retries per request limit (which is ${limit}): no node of the Redis Cluster answered`,
      );
      err.name = 'MaxRetriesPerRequestError';
      cluster.flushQueue(err);
    }
    return retry(times);
  };
  const redisOptions: RedisOptions = { ...perNode };
  try {
    const u = new URL(url);
    if (u.username) redisOptions.username = decodeURIComponent(u.username);
    if (u.password) redisOptions.password = decodeURIComponent(u.password);
    // ioredis also reads them from the query string (redis://host?password=...).
    const q = (name: string) => u.searchParams.get(name) ?? undefined;
    redisOptions.username ??= q('username');
    redisOptions.password ??= q('password');
    if (u.protocol === 'rediss:') redisOptions.tls = {};
  } catch {
    // REDIS_URL is validated by the config; a caller's bad URL just brings no credentials.
  }
  return {
    redisOptions,
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(enableReadyCheck !== undefined ? { enableReadyCheck } : {}),
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    clusterRetryStrategy,
    maxRedirections: CLUSTER_MAX_REDIRECTIONS,
  };
}

/**
 * BullMQ needs `maxmemory-policy noeviction`: with any other policy Redis may silently drop
 * job keys under memory pressure. Warn (do not fail) when it is not so, or cannot be read.
 */
export async function checkEvictionPolicy(
  redis: RedisClient,
  log: Logger,
): Promise<string | undefined> {
  try {
    const reply = await redis.config('GET', 'maxmemory-policy');
    const policy = Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
    if (policy !== 'noeviction') {
      log.warn(
        { maxmemory_policy: policy },
        'Redis maxmemory-policy is not noeviction: jobs and idempotency records may be evicted under memory pressure',
      );
    }
    return policy;
  } catch (err) {
    // The connection was closed (a stop) before Redis answered: nothing to say about the policy.
    if (err instanceof Error && err.message === 'Connection is closed.') return undefined;
    log.warn({ err: String(err) }, 'could not read Redis maxmemory-policy (CONFIG GET refused?)');
    return undefined;
  }
}
