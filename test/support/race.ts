/**
 * A write that lands between a read and the script that relies on it: `redis` as seen through a
 * proxy whose first pipeline, once its replies are in, lets `meanwhile` write with the real
 * client before the caller gets them. `fired()` says whether it ran (a test that expects the race
 * checks it did happen).
 */
import type { RedisClient } from '../../src/redis/connect.js';

export function afterFirstPipeline(
  redis: RedisClient,
  meanwhile: (real: RedisClient) => Promise<unknown>,
): { client: RedisClient; fired: () => boolean } {
  let pending = true;
  const client = new Proxy(redis, {
    get(target, prop) {
      if (prop === 'pipeline') {
        return () => {
          const pipeline = target.pipeline();
          const exec = pipeline.exec.bind(pipeline);
          pipeline.exec = async () => {
            const replies = await exec();
            if (pending) {
              pending = false;
              await meanwhile(target);
            }
            return replies;
          };
          return pipeline;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  return { client, fired: () => !pending };
}
