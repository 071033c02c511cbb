/**
 * Settings of the connections (put together in ../config.ts): the Sendmux API (key, base URL,
 * rate limit, timeout) and Redis (a single Redis or a Cluster, the key prefix).
 */
import { z } from 'zod';
import { clusterNodes, int, url, setting } from './rules.js';

export const CONNECTION_SETTINGS = {
  apiKey: setting(
    'SENDMUX_API_KEY',
    z.string().min(1, { error: 'must not be empty' }).optional(),
    'Team root API key. Required to run a worker; never logged.',
  ),
  baseUrl: setting(
    'SENDMUX_BASE_URL',
    url(['http:', 'https:'])
      .default('https://app.sendmux.ai/api/v1')
      .transform((v) => v.replace(/\/+$/, '')),
    'API base URL (the simulator prints its own).',
  ),
  redisUrl: setting(
    'REDIS_URL',
    url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
    'Redis for the queue, bindings, statuses and events.',
  ),
  redisClusterNodes: setting(
    'REDIS_CLUSTER_NODES',
    clusterNodes().optional(),
    'Redis Cluster seed nodes, comma-separated host:port (any node of the cluster will do). When set, every connection is a Cluster client and REDIS_URL gives only the credentials (user:password@) and TLS (rediss://); its host is unused. Unset = a single Redis at REDIS_URL.',
  ),
  prefix: setting(
    'QUEUE_PREFIX',
    z
      .string()
      .regex(/^[^:\s]{1,64}$/, { error: 'must be 1..64 characters without ":" or spaces' })
      .regex(/\{[^{}]+\}/, {
        error:
          'must contain a Redis Cluster hash tag such as {sdx} (e.g. "{sdx}" or "{sdx}-prod"), so every key of the deployment lives in one slot',
      })
      .default('{sdx}'),
    'Prefix of every key; its {hash tag} keeps one deployment in one Redis Cluster slot.',
  ),
  rateLimitPerMinute: setting(
    'SENDMUX_RATE_LIMIT',
    int(0, 1_000_000).default(540),
    "Requests per minute shared by every worker process (90 % of the API's 600); 0 = no client-side limit.",
  ),
  timeoutMs: setting(
    'SENDMUX_TIMEOUT_MS',
    int(100, 600_000).default(10_000),
    'Whole-request timeout of one API call.',
  ),
} as const;
