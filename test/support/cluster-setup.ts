/**
 * Global setup of the `cluster` project: a throwaway 3-master Redis Cluster (redis-cluster.ts),
 * provided as `redisCluster` (its masters and who owns which slot) and as `redisUrl` (the
 * scheme and credentials REDIS_URL gives a Cluster deployment; its host is not used), stopped
 * after the project.
 */
import type { TestProject } from 'vitest/node';
import { startTestCluster, type ClusterInfo } from './redis-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisCluster: ClusterInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const cluster = await startTestCluster().catch((err: unknown) => {
    throw new Error(
      `the cluster tests start a throwaway Redis Cluster and need redis-server and redis-cli (7.0+) on PATH (Debian: apt-get install redis-server): ${String(err)}`,
    );
  });
  process.stdout.write(
    `cluster tests use a throwaway Redis Cluster: ${cluster.nodes.map((n) => `${n.host}:${n.port}`).join(', ')} (${Date.now() - started} ms to start)\n`,
  );
  project.provide('redisCluster', {
    url: cluster.url,
    nodes: cluster.nodes,
    owners: cluster.owners,
  });
  project.provide('redisUrl', cluster.url);
  return () => cluster.stop();
}
