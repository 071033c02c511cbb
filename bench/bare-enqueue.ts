/**
 * The bulk-enqueue benchmark's baseline: stream a file of account ids into BullMQ `addBulk`,
 * a chunk at a time, one job per id (job id = a key made from the id), and nothing else: no
 * validation, no batch record, no idempotency bindings.
 *
 *   node --import tsx bench/bare-enqueue.ts <file> <prefix> <chunk>   (REDIS_URL from the env)
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

export const BARE_ENQUEUE_QUEUE = 'bare-enqueue';

async function main(): Promise<void> {
  const [file, prefix, chunkRaw] = process.argv.slice(2);
  if (!file || !prefix || !chunkRaw) throw new Error('usage: bare-enqueue <file> <prefix> <chunk>');
  const chunkSize = Number(chunkRaw);
  const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    maxRetriesPerRequest: null,
  });
  const queue = new Queue(BARE_ENQUEUE_QUEUE, { connection, prefix });
  let chunk: string[] = [];
  const flush = async () => {
    await queue.addBulk(
      chunk.map((id) => ({
        name: 'deactivate',
        data: { accountId: id, key: `bulk:bench:${id}` },
        opts: { jobId: `k-bulk:bench:${id}`, attempts: 3, removeOnComplete: { count: 1000 } },
      })),
    );
    chunk = [];
  };
  for await (const line of createInterface({
    input: createReadStream(file),
    crlfDelay: Infinity,
  })) {
    const id = line.trim();
    if (id === '') continue;
    chunk.push(id);
    if (chunk.length >= chunkSize) await flush();
  }
  if (chunk.length > 0) await flush();
  await queue.close();
  await connection.quit();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
