/** The pure parts of choosing a Redis: messages, password hiding, the default URL. */
import { describe, expect, it } from 'vitest';
import { safeRedisUrl } from '../../src/redis/connect.js';
import {
  DEFAULT_REDIS_URL,
  defaultRedisUrl,
  describeLocalRedis,
  noRedisMessage,
} from '../../src/redis/find-redis.js';

describe('safeRedisUrl', () => {
  it('replaces the password and keeps the rest', () => {
    expect(safeRedisUrl('redis://app:s3cret@db.internal:6380/2')).toBe(
      'redis://app:***@db.internal:6380/2',
    );
    expect(safeRedisUrl('rediss://:s3cret@db.internal')).toBe('rediss://:***@db.internal');
  });

  it('replaces a password given in the query string (ioredis reads it there too)', () => {
    expect(safeRedisUrl('redis://db.internal:6380/?password=s3cret&db=2')).toBe(
      'redis://db.internal:6380/?password=***&db=2',
    );
    expect(safeRedisUrl('redis://u:a@h/?sentinelPassword=s3cret')).toBe(
      'redis://u:***@h/?sentinelPassword=***',
    );
    expect(safeRedisUrl('redis://h/?db=2&name=x')).toBe('redis://h/?db=2&name=x');
  });

  it('leaves a URL without a password alone and never echoes an unparseable one', () => {
    expect(safeRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(safeRedisUrl('not a url s3cret')).toBe('(unparseable URL)');
  });
});

describe('defaultRedisUrl', () => {
  it('is redis://127.0.0.1:6379 unless SDX_DEFAULT_REDIS_URL says otherwise', () => {
    expect(defaultRedisUrl({})).toBe(DEFAULT_REDIS_URL);
    expect(DEFAULT_REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(defaultRedisUrl({ SDX_DEFAULT_REDIS_URL: '' })).toBe(DEFAULT_REDIS_URL);
    expect(defaultRedisUrl({ SDX_DEFAULT_REDIS_URL: ' redis://127.0.0.1:7000 ' })).toBe(
      'redis://127.0.0.1:7000',
    );
  });
});

describe('noRedisMessage', () => {
  it('is one line naming the three fixes', () => {
    const message = noRedisMessage(DEFAULT_REDIS_URL, 'connect ECONNREFUSED 127.0.0.1:6379');
    expect(message).not.toContain('\n');
    expect(message).toContain('set REDIS_URL=');
    expect(message).toContain('start Redis on 127.0.0.1:6379');
    expect(message).toContain('install redis-server');
    expect(message).toContain('ECONNREFUSED');
  });

  it('names the fallback (Docker for the tests) as what was missing and as a fix', () => {
    const message = noRedisMessage(DEFAULT_REDIS_URL, 'refused', {
      missing: 'no container runtime answered',
      fix: 'Docker (for testcontainers)',
    });
    expect(message).not.toContain('\n');
    expect(message).toContain('no container runtime answered');
    expect(message).toMatch(/install redis-server or Docker \(for testcontainers\)$/);
  });

  it('hides a password in the default URL', () => {
    const message = noRedisMessage('redis://:s3cret@127.0.0.1:6390', 'refused');
    expect(message).not.toContain('s3cret');
    expect(message).toContain('start Redis on 127.0.0.1:6390');
  });
});

describe('describeLocalRedis', () => {
  it('says where and why, without the password', () => {
    expect(describeLocalRedis({ url: 'redis://:pw@10.0.0.5:6379', why: 'REDIS_URL' })).toBe(
      'redis://:***@10.0.0.5:6379 (REDIS_URL)',
    );
  });
});
