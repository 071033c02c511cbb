/**
 * The webhook-ingest benchmark's baseline: the least a receiver can do and still store what
 * it answers for. A fastify route that appends the raw body to a Redis Stream and answers 202:
 * no signature check, no dedupe, no reading of the body.
 *
 *   node --import tsx bench/bare-webhook-server.ts <port> <prefix>   (REDIS_URL from the env)
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';

async function main(): Promise<void> {
  const [portRaw, prefix] = process.argv.slice(2);
  if (!portRaw || !prefix) throw new Error('usage: bare-webhook-server <port> <prefix>');
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const app = Fastify({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, body);
  });
  app.get('/healthz', (_req, reply) => reply.send({ ok: true }));
  app.post('/webhooks/sendmux', async (req, reply) => {
    await redis.xadd(
      `${prefix}:bare-inbox`,
      'MAXLEN',
      '~',
      1_000_000,
      '*',
      'body',
      req.body as Buffer,
    );
    return reply.code(202).send({ accepted: true });
  });
  await app.listen({ port: Number(portRaw), host: '127.0.0.1' });
  const stop = () => {
    void app
      .close()
      .then(() => redis.quit())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
