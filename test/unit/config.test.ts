import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, requireApiKey, SETTINGS } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      baseUrl: 'https://app.sendmux.ai/api/v1',
      redisUrl: 'redis://127.0.0.1:6379',
      prefix: '{sdx}',
      // Headroom below the API's 600/min; the rate budget paces calls through each window and
      // leaves room for other users of the key, so the watermark is off by default.
      rateLimitPerMinute: 540,
      rateLimitLowWatermark: 0,
      rateLimitReserve: 0.02,
      concurrency: 10,
      idempotencyTtlS: 86_400,
      // Crash recovery in seconds, not a minute.
      lockDurationMs: 6_000,
      stalledIntervalMs: 4_000,
      logLevel: 'info',
    });
    expect(c.apiKey).toBeUndefined();
  });

  it('reads overrides and trims a trailing slash from the base URL', () => {
    const c = loadConfig({
      SENDMUX_BASE_URL: 'http://127.0.0.1:4010/api/v1/',
      WORKER_CONCURRENCY: '3',
      QUEUE_PREFIX: '{other}',
    });
    expect(c.baseUrl).toBe('http://127.0.0.1:4010/api/v1');
    expect(c.concurrency).toBe(3);
    expect(c.prefix).toBe('{other}');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ SENDMUX_RATE_LIMIT: '' }).rateLimitPerMinute).toBe(540);
  });

  it.each([
    ['SENDMUX_RATE_LIMIT', 'ten', 'SENDMUX_RATE_LIMIT: must be an integer'],
    ['SENDMUX_RATE_LIMIT', '-1', 'SENDMUX_RATE_LIMIT: must be >= 0'],
    ['WORKER_CONCURRENCY', '0', 'WORKER_CONCURRENCY: must be >= 1'],
    ['REDIS_URL', 'http://localhost', 'REDIS_URL: must be a URL with scheme redis:// or rediss://'],
    ['SENDMUX_BASE_URL', 'not a url', 'SENDMUX_BASE_URL: must be a URL'],
    ['QUEUE_PREFIX', 'a:b', 'QUEUE_PREFIX: must be 1..64 characters'],
    ['QUEUE_PREFIX', 'sdx', 'QUEUE_PREFIX: must contain a Redis Cluster hash tag'],
    [
      'LOG_LEVEL',
      'loud',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
    ],
    ['IDEMPOTENCY_TTL_S', '3600', 'IDEMPOTENCY_TTL_S: must be >= 86400'],
  ])('rejects %s=%s naming the variable and the rule', (name, value, message) => {
    try {
      loadConfig({ [name]: value });
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain(message);
    }
  });

  it('reads Redis Cluster seed nodes', () => {
    expect(loadConfig({}).redisClusterNodes).toBeUndefined();
    expect(
      loadConfig({ REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-b.internal:7001,[::1]:7002' })
        .redisClusterNodes,
    ).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
  });

  it.each(['10.0.0.1', '10.0.0.1:7000,', 'redis://10.0.0.1:7000', 'a:0', 'a:70000', 'a b:1'])(
    'rejects REDIS_CLUSTER_NODES=%s naming the variable and the rule',
    (value) => {
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: value })).toThrow(
        /REDIS_CLUSTER_NODES: must be comma-separated host:port seed nodes/,
      );
    },
  );

  it('rejects a backoff cap below the base', () => {
    expect(() => loadConfig({ BACKOFF_BASE_MS: '5000', BACKOFF_CAP_MS: '100' })).toThrow(
      /BACKOFF_CAP_MS: must be >= BACKOFF_BASE_MS/,
    );
  });

  it('refuses settings that contradict each other, naming both', () => {
    expect(() => loadConfig({ SENDMUX_RATE_LIMIT: '60', RATE_LIMIT_LOW_WATERMARK: '60' })).toThrow(
      /RATE_LIMIT_LOW_WATERMARK: must be below SENDMUX_RATE_LIMIT \(60\)/,
    );
    // With no client-side limit the watermark has nothing to be below.
    expect(
      loadConfig({ SENDMUX_RATE_LIMIT: '0', RATE_LIMIT_LOW_WATERMARK: '60' }).rateLimitLowWatermark,
    ).toBe(60);
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_MS: '2000', SENDMUX_TIMEOUT_MS: '5000' })).toThrow(
      /SHUTDOWN_TIMEOUT_MS: must be >= SENDMUX_TIMEOUT_MS \(5000\)/,
    );
    expect(() =>
      loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '15000' }),
    ).toThrow(/HTTP_HEADERS_TIMEOUT_MS: must be <= HTTP_REQUEST_TIMEOUT_MS \(15000\)/);
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: '0' })).toThrow(
      /HTTP_MAX_CONNECTIONS: must be >= 1/,
    );
    expect(() => loadConfig({ WEBHOOK_REDIS_TIMEOUT_MS: '10000' })).toThrow(
      /WEBHOOK_REDIS_TIMEOUT_MS: must be <= 9000/,
    );
    expect(() =>
      loadConfig({ WEBHOOK_INBOX_MAXLEN: '1000', WEBHOOK_INBOX_BACKLOG_MAX: '1001' }),
    ).toThrow(/WEBHOOK_INBOX_BACKLOG_MAX: must be <= WEBHOOK_INBOX_MAXLEN \(1000\)/);
    expect(() =>
      loadConfig({ WEBHOOK_BODY_LIMIT_BYTES: '65536', WEBHOOK_INBOX_MAX_BYTES: '65535' }),
    ).toThrow(/WEBHOOK_INBOX_MAX_BYTES: must be >= WEBHOOK_BODY_LIMIT_BYTES \(65536\)/);
    expect(() => loadConfig({ WEBHOOK_INBOX_BACKLOG_MAX: '0' })).toThrow(
      /WEBHOOK_INBOX_BACKLOG_MAX: must be >= 1/,
    );
    const inbox = loadConfig({ WEBHOOK_INBOX_MAXLEN: '1000', WEBHOOK_INBOX_BACKLOG_MAX: '1000' });
    expect([inbox.webhookInboxBacklogMax, inbox.webhookInboxMaxBytes]).toEqual([1000, 268_435_456]);
  });

  it('says everything wrong on one line', () => {
    try {
      loadConfig({ WORKER_CONCURRENCY: '0', LOG_LEVEL: 'loud' });
      expect.unreachable('should have thrown');
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
      expect((err as ConfigError).issues).toHaveLength(2);
    }
  });

  it('requires the API key only where a worker needs it', () => {
    expect(() => requireApiKey(loadConfig({}))).toThrow(/SENDMUX_API_KEY: is required/);
    expect(requireApiKey(loadConfig({ SENDMUX_API_KEY: 'smx_root_x' }))).toBe('smx_root_x');
  });
});

describe('the README configuration table', () => {
  it('lists every setting with its real default', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const s of Object.values(SETTINGS)) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${s.env}\` |`));
      expect(row, `README has no row for ${s.env}`).toBeDefined();
      const fallback: unknown = s.schema.safeParse(undefined).data;
      const shown =
        typeof fallback === 'string' || typeof fallback === 'number' ? `\`${fallback}\`` : '(none)';
      expect(row?.split('|')[2]?.trim(), `${s.env}'s default in the README`).toBe(shown);
    }
  });
});
