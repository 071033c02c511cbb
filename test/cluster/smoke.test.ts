/**
 * The throwaway Cluster itself, and the project's connection to it: seeded only with nodes
 * that do not own the deployment's slot, the client follows the redirection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRedis, type RedisClient } from '../../src/redis/connect.js';
import { dropPrefix } from '../../src/store/drop-prefix.js';
import { testCluster, testConfig } from '../support/context.js';
import { keySlot, nodeConnection, slotOwner } from '../support/redis-cluster.js';

const open: RedisClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.quit().catch(() => undefined)));
});

describe('the test cluster', () => {
  it('computes slots as Redis does and seeds only nodes that do not own the slot', async () => {
    const cluster = testCluster();
    if (!cluster) throw new Error('the cluster project provides redisCluster');
    const config = testConfig();
    const seeds = config.redisClusterNodes ?? [];
    expect(seeds).toHaveLength(cluster.nodes.length - 1);
    const [seed] = seeds;
    if (!seed) throw new Error('no seed');
    const plain = nodeConnection(seed);
    try {
      expect(await plain.cluster('KEYSLOT', config.prefix)).toBe(keySlot(config.prefix));
      // A plain client at a seed is refused: this is what happened before the Cluster client.
      await expect(plain.set(`${config.prefix}:x`, '1')).rejects.toThrow(/MOVED/);
    } finally {
      plain.disconnect();
    }
    const owner = await slotOwner(cluster.nodes, keySlot(config.prefix));
    expect(seeds.some((s) => s.port === owner.port)).toBe(false);

    const redis = createRedis(config);
    open.push(redis);
    await redis.set(`${config.prefix}:x`, '1');
    expect(await redis.get(`${config.prefix}:x`)).toBe('1');
    expect(await dropPrefix(redis, config.prefix)).toBe(1);
  });
});
