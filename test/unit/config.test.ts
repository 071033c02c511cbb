import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireApiKey } from '../../src/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      baseUrl: 'https://app.sendmux.ai/api/v1',
      redisUrl: 'redis://127.0.0.1:6379',
      prefix: '{sdx}',
      rateLimitPerMinute: 600,
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
    expect(loadConfig({ SENDMUX_RATE_LIMIT: '' }).rateLimitPerMinute).toBe(600);
  });

  it.each([
    ['SENDMUX_RATE_LIMIT', 'ten', 'SENDMUX_RATE_LIMIT: must be an integer'],
    ['SENDMUX_RATE_LIMIT', '-1', 'SENDMUX_RATE_LIMIT: must be >= 0'],
    ['WORKER_CONCURRENCY', '0', 'WORKER_CONCURRENCY: must be >= 1'],
    ['REDIS_URL', 'http://localhost', 'REDIS_URL: must be a URL with scheme redis:// or rediss://'],
    ['SENDMUX_BASE_URL', 'not a url', 'SENDMUX_BASE_URL: must be a URL'],
    ['QUEUE_PREFIX', 'a:b', 'QUEUE_PREFIX: must be 1..64 characters'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL'],
  ])('rejects %s=%s naming the variable and the rule', (name, value, message) => {
    try {
      loadConfig({ [name]: value });
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain(message);
    }
  });

  it('rejects a backoff cap below the base', () => {
    expect(() => loadConfig({ BACKOFF_BASE_MS: '5000', BACKOFF_CAP_MS: '100' })).toThrow(
      /BACKOFF_CAP_MS: must be >= BACKOFF_BASE_MS/,
    );
  });

  it('requires the API key only where a worker needs it', () => {
    expect(() => requireApiKey(loadConfig({}))).toThrow(/SENDMUX_API_KEY: is required/);
    expect(requireApiKey(loadConfig({ SENDMUX_API_KEY: 'smx_root_x' }))).toBe('smx_root_x');
  });
});
