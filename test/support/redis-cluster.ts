/**
 * A throwaway Redis Cluster for the `cluster` test project: three masters (no replicas) from
 * `redis-server` on PATH, on free loopback ports, joined with `redis-cli --cluster create`,
 * nothing saved. Also the slot arithmetic the tests need: which slot a deployment's keys live
 * in, which node owns it, seeds that do NOT own it, and moving the slot to another master while
 * clients keep working (the migration test).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { ClusterNode } from '../../src/config.js';
import {
  freeLoopbackPort,
  startRedisServer,
  type RedisServer,
} from '../../src/redis/redis-server.js';

const run = promisify(execFile);

/** How to reach the cluster: its masters, and a URL (scheme and credentials only). */
export interface ClusterInfo {
  url: string;
  nodes: ClusterNode[];
  /** Who owned which slots when the cluster was made: [first slot, last slot, node's port]. */
  owners: [number, number, number][];
}

export interface TestCluster extends ClusterInfo {
  stop(): Promise<void>;
}

/** Six free ports (three nodes, three cluster buses), distinct. */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freeLoopbackPort());
  return [...ports];
}

export async function startTestCluster(masters = 3): Promise<TestCluster> {
  const ports = await freePorts(masters * 2);
  const dir = mkdtempSync(join(tmpdir(), 'sdx-cluster-'));
  const servers: RedisServer[] = [];
  const nodes: ClusterNode[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = ports[i] ?? 0;
      servers.push(
        await startRedisServer({
          port,
          dir,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(ports[masters + i] ?? 0),
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '5000',
            '--save',
            '',
            '--appendonly',
            'no',
            '--maxmemory-policy',
            'noeviction',
          ],
        }),
      );
      nodes.push({ host: '127.0.0.1', port });
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `${n.host}:${n.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    await waitClusterOk(nodes);
    const [first] = nodes;
    if (!first) throw new Error('a cluster needs masters');
    const slots = await withNode(first, (r) => r.cluster('SLOTS'));
    const owners = slots.map(([a, b, owner]): [number, number, number] => [
      a,
      b,
      Number(owner?.[1]),
    ]);
    return { url: `redis://${first.host}:${first.port}`, nodes, owners, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The masters that did not own the prefix's slot when the cluster was made (the tests' seed
 * nodes: every client must follow a redirection to reach its keys).
 */
export function keySlotOwnerless(cluster: ClusterInfo, prefix: string): ClusterNode[] {
  const slot = keySlot(prefix);
  const owner = cluster.owners.find(([a, b]) => slot >= a && slot <= b)?.[2];
  return cluster.nodes.filter((n) => n.port !== owner);
}

/** A plain connection to one node (admin commands: CLUSTER ..., MIGRATE). */
export function nodeConnection(node: ClusterNode): Redis {
  return new Redis({
    host: node.host,
    port: node.port,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
  });
}

async function withNode<T>(node: ClusterNode, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = nodeConnection(node);
  try {
    return await f(r);
  } finally {
    r.disconnect();
  }
}

/** Until every node says `cluster_state:ok` and agrees who owns every slot. */
export async function waitClusterOk(
  nodes: readonly ClusterNode[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(
      nodes.map((n) =>
        withNode(n, async (r) => {
          const info = await r.cluster('INFO');
          return /cluster_state:ok/.test(info);
        }).catch(() => false),
      ),
    );
    if (states.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`cluster not ok within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** The hash slot of a key (CRC16 of its hash tag, as Redis Cluster computes it). */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/** The master that owns a slot now (asked of the first node that answers). */
export async function slotOwner(nodes: readonly ClusterNode[], slot: number): Promise<ClusterNode> {
  for (const n of nodes) {
    const owner = await withNode(n, async (r) => {
      const slots = await r.cluster('SLOTS');
      const owner = slots.find(([from, to]) => slot >= from && slot <= to)?.[2];
      return owner ? { host: owner[0], port: owner[1] } : undefined;
    }).catch(() => undefined);
    if (owner) return owner;
  }
  throw new Error(`no node says who owns slot ${slot}`);
}

/** Seed nodes for a deployment: every master except the one that owns the prefix's slot. */
export async function seedsAvoiding(
  nodes: readonly ClusterNode[],
  prefix: string,
): Promise<ClusterNode[]> {
  const owner = await slotOwner(nodes, keySlot(prefix));
  return nodes.filter((n) => n.port !== owner.port || n.host !== owner.host);
}

async function nodeId(node: ClusterNode): Promise<string> {
  return withNode(node, (r) => r.cluster('MYID'));
}

/**
 * Move a slot from its owner to `to`, the way `redis-cli --cluster reshard` does, while clients
 * keep working: IMPORTING on the target, MIGRATING on the source, MIGRATE the keys in batches
 * (clients meanwhile get ASK / TRYAGAIN), then SETSLOT NODE on every master.
 * `onBatch` runs after each batch (a test may pause there). Returns how many keys moved.
 */
export async function migrateSlot(
  nodes: readonly ClusterNode[],
  slot: number,
  to: ClusterNode,
  options: { batch?: number; onBatch?: (moved: number) => Promise<void> } = {},
): Promise<{ keys: number; batches: number }> {
  const from = await slotOwner(nodes, slot);
  if (from.port === to.port && from.host === to.host) return { keys: 0, batches: 0 };
  const [fromId, toId] = await Promise.all([nodeId(from), nodeId(to)]);
  const batch = options.batch ?? 50;
  const source = nodeConnection(from);
  const target = nodeConnection(to);
  let keys = 0;
  let batches = 0;
  try {
    await target.cluster('SETSLOT', slot, 'IMPORTING', fromId);
    await source.cluster('SETSLOT', slot, 'MIGRATING', toId);
    for (;;) {
      const found = await source.cluster('GETKEYSINSLOT', slot, batch);
      if (found.length === 0) break;
      await source.migrate(to.host, to.port, '', 0, 10_000, 'REPLACE', 'KEYS', ...found);
      keys += found.length;
      batches += 1;
      await options.onBatch?.(keys);
    }
    // The target first, then the source, then everyone else (as redis-cli does).
    await target.cluster('SETSLOT', slot, 'NODE', toId);
    await source.cluster('SETSLOT', slot, 'NODE', toId);
    for (const n of nodes) {
      if (n.port === from.port || n.port === to.port) continue;
      await withNode(n, (r) => r.cluster('SETSLOT', slot, 'NODE', toId));
    }
  } finally {
    source.disconnect();
    target.disconnect();
  }
  return { keys, batches };
}
