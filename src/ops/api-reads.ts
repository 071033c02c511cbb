/**
 * The API as producers read it (accounts one by one, the listing), through the shared rate
 * budget. The client, and got with it, is loaded on the first read: a run that makes none
 * never loads it.
 */
import type { Config } from '../config.js';
import { budgetedReader, type AccountReader } from '../producers/account-states.js';
import { budgetedLister, type AccountLister } from '../producers/bulk/accounts.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { SendmuxClient } from '../sendmux/client.js';
import type { Keys } from '../store/keys.js';
import { limiterFor } from '../worker/backoff.js';

export interface ApiReads {
  reader: AccountReader;
  lister: AccountLister;
  close(): Promise<void>;
}

/** Reads through the rate budget; undefined without an API key (`config.apiKey`). */
export function openApiReads(config: Config, redis: Redis, keys: Keys): ApiReads | undefined {
  const apiKey = config.apiKey;
  if (!apiKey) return undefined;
  let client: Promise<SendmuxClient> | undefined;
  const open = () =>
    (client ??= import('../sendmux/client.js').then(({ createSendmuxClient }) =>
      createSendmuxClient({ baseUrl: config.baseUrl, apiKey, timeoutMs: config.timeoutMs }),
    ));
  const budget = limiterFor(config.rateLimitPerMinute);
  return {
    reader: {
      get: async (id, signal) =>
        budgetedReader({ client: await open(), redis, keys, budget }).get(id, signal),
      async *list(signal) {
        yield* budgetedReader({ client: await open(), redis, keys, budget }).list(signal);
      },
    },
    lister: {
      async *list(filter, signal) {
        yield* budgetedLister({ client: await open(), redis, keys, budget }).list(filter, signal);
      },
    },
    async close() {
      if (client) (await client.catch(() => undefined))?.close();
    },
  };
}
