/**
 * Which Redis the demo (and the test run) uses, and why. In this order:
 *
 * 1. `REDIS_URL` when set, as given; one line naming REDIS_URL when it does not answer PING;
 * 2. the default URL (`redis://127.0.0.1:6379`) when it answers PING within ~1 s;
 * 3. a throwaway `redis-server` from PATH on a free loopback port, in a temp dir that `stop()`
 *    removes;
 * 4. a caller's own fallback (the tests: testcontainers);
 * 5. else one line naming the ways to fix it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { safeRedisUrl } from '../redis/connect.js';
import {
  freeLoopbackPort,
  pingRedis,
  RedisServerNotFoundError,
  startRedisServer,
} from './redis-server.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Environment variable that points the default URL elsewhere (a Redis on another port, tests). */
export const DEFAULT_REDIS_URL_VAR = 'SDX_DEFAULT_REDIS_URL';

/** BullMQ wants noeviction; a throwaway needs no persistence. */
const THROWAWAY_ARGS = ['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];

export type LocalRedisSource = 'env' | 'default' | 'throwaway' | 'container';

export interface LocalRedis {
  url: string;
  source: LocalRedisSource;
  /** Why this Redis, for a "Redis at URL (why)" line: `REDIS_URL`, `default URL answered`, ... */
  why: string;
  /** Stops what was started for this run (a throwaway server, a container); else nothing. */
  stop(): Promise<void>;
}

/** One more way to get a Redis, tried after the throwaway redis-server. */
export interface RedisFallback {
  /** Undefined when this way is not available either. */
  start(): Promise<LocalRedis | undefined>;
  /** What was missing, for the failure line, e.g. `no container runtime answered`. */
  missing: string;
  /** The fix, for the failure line, e.g. `Docker`. */
  fix: string;
}

export interface FindRedisOptions {
  /** Where `REDIS_URL`, `SDX_DEFAULT_REDIS_URL` and PATH are read. @defaultValue `process.env` */
  env?: NodeJS.ProcessEnv;
  /** @defaultValue `env.SDX_DEFAULT_REDIS_URL`, else `redis://127.0.0.1:6379` */
  defaultUrl?: string;
  /** @defaultValue 1000 */
  pingTimeoutMs?: number;
  fallback?: RedisFallback;
}

/** No Redis could be found or started; the message is one line naming the fixes. */
export class NoRedisError extends Error {
  override readonly name = 'NoRedisError';
}

/** Find (or start) a Redis; see the module comment for the order. */
export async function findLocalRedis(options: FindRedisOptions = {}): Promise<LocalRedis> {
  const env = options.env ?? process.env;
  const defaultUrl = options.defaultUrl ?? defaultRedisUrl(env);
  const timeoutMs = options.pingTimeoutMs ?? 1_000;
  const fromEnv = env.REDIS_URL?.trim();
  if (fromEnv) return useEnvUrl(fromEnv, timeoutMs);

  const atDefault = await pingRedis(defaultUrl, timeoutMs);
  if (atDefault.ok) {
    return { url: defaultUrl, source: 'default', why: 'default URL answered', stop: nothing };
  }
  const throwaway = await startThrowaway(
    env,
    `REDIS_URL is unset and nothing answered at ${safeRedisUrl(defaultUrl)}`,
  );
  if (throwaway) return throwaway;
  const fallback = await options.fallback?.start();
  if (fallback) return fallback;
  throw new NoRedisError(noRedisMessage(defaultUrl, atDefault.reason, options.fallback));
}

/** `SDX_DEFAULT_REDIS_URL` when set, else `redis://127.0.0.1:6379`. */
export function defaultRedisUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env[DEFAULT_REDIS_URL_VAR]?.trim() || DEFAULT_REDIS_URL;
}

/** `URL (why)`, password hidden: the end of a "tests use Redis at ..." line. */
export function describeLocalRedis(redis: Pick<LocalRedis, 'url' | 'why'>): string {
  return `${safeRedisUrl(redis.url)} (${redis.why})`;
}

/** The one-line failure when no Redis answers and none can be started. */
export function noRedisMessage(
  defaultUrl: string,
  reason: string,
  fallback?: Pick<RedisFallback, 'missing' | 'fix'>,
): string {
  const found = [
    'REDIS_URL is unset',
    `nothing answered at ${safeRedisUrl(defaultUrl)} (${reason})`,
    'redis-server is not on PATH',
    ...(fallback ? [fallback.missing] : []),
  ];
  const install = ['redis-server', ...(fallback ? [fallback.fix] : [])];
  return oneLine(
    `no Redis for this run: ${found.slice(0, -1).join(', ')} and ${found.at(-1) ?? ''}. ` +
      `Fix one: set REDIS_URL=redis://host:port, start Redis on ${hostPort(defaultUrl)}, ` +
      `or install ${install.join(' or ')}`,
  );
}

async function useEnvUrl(url: string, timeoutMs: number): Promise<LocalRedis> {
  const ping = await pingRedis(url, timeoutMs);
  if (!ping.ok) {
    throw new NoRedisError(
      oneLine(
        `REDIS_URL=${safeRedisUrl(url)} does not answer PING (${ping.reason}): ` +
          'start that Redis, fix REDIS_URL, or unset it to use the default URL or a throwaway redis-server',
      ),
    );
  }
  return { url, source: 'env', why: 'REDIS_URL', stop: nothing };
}

/** Undefined when redis-server is not on PATH; throws when it is there but does not start. */
async function startThrowaway(
  env: NodeJS.ProcessEnv,
  because: string,
): Promise<LocalRedis | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'sdx-redis-'));
  const removeDir = () => {
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freeLoopbackPort();
    const server = await startRedisServer({ port, dir, env, args: THROWAWAY_ARGS });
    return {
      url: server.url,
      source: 'throwaway',
      why: `throwaway redis-server on port ${port}, data in ${dir}: ${because}; stopped at the end`,
      async stop() {
        await server.stop('SIGTERM');
        removeDir();
      },
    };
  } catch (err) {
    removeDir();
    if (err instanceof RedisServerNotFoundError) return undefined;
    throw err;
  }
}

function hostPort(raw: string): string {
  try {
    return new URL(raw).host;
  } catch {
    return safeRedisUrl(raw);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** `stop()` of a Redis this run did not start. */
function nothing(): Promise<void> {
  return Promise.resolve();
}
