/**
 * `breaker backtest --from redis`: the webhook bodies the inbox still holds (read-only: nothing
 * is claimed or acknowledged), each seen by the replay when it arrived (its stream id's time),
 * and, beside the result, what the live breaker did for the same accounts: its
 * `breaker.tripped`, `breaker.warned` and `breaker.would_trip` events still on the stream.
 */
import type { RedisClient as Redis } from '../../../redis/connect.js';
import { decodeEntry } from '../../../store/event-codec.js';
import type { Keys } from '../../../store/keys.js';
import { rangeInbox } from '../../../store/webhook-inbox-read.js';
import type { ActualView } from '../../../wire/backtest.js';
import type { LineReader } from './read-lines.js';

/** Every inbox entry through `reader`; resolves with how many were read. */
export async function readInboxHistory(
  redis: Redis,
  keys: Keys,
  reader: LineReader,
): Promise<number> {
  let n = 0;
  for await (const entry of rangeInbox(redis, keys)) {
    n++;
    const r = reader.add(entry.body, entry.id, entry.arrivedMs);
    if (r !== undefined) await r;
  }
  return n;
}

const ACTUAL = new Set(['breaker.tripped', 'breaker.warned', 'breaker.would_trip']);
type ActualType = ActualView['accounts'][number]['events'][number]['type'];

/** The live breaker's trips, warnings and would-trips on the events stream, for `accounts`. */
export async function readActualEvents(
  redis: Redis,
  keys: Keys,
  accounts: ReadonlySet<string>,
  pageSize = 1000,
): Promise<ActualView> {
  const byAccount = new Map<string, ActualView['accounts'][number]['events']>();
  let read = 0;
  let start = '-';
  for (;;) {
    const page = (await redis.xrange(keys.events, start, '+', 'COUNT', pageSize)) as [
      string,
      string[],
    ][];
    for (const [id, fields] of page) {
      read++;
      let event: Record<string, unknown>;
      try {
        event = decodeEntry(id, fields) as unknown as Record<string, unknown>;
      } catch {
        continue;
      }
      const type = String(event.type);
      const account = typeof event.account_id === 'string' ? event.account_id : '';
      if (!ACTUAL.has(type) || !accounts.has(account)) continue;
      const list = byAccount.get(account) ?? [];
      list.push({
        type: type as ActualType,
        at: typeof event.at === 'string' ? event.at : '',
        reason: typeof event.reason === 'string' ? event.reason : null,
      });
      byAccount.set(account, list);
    }
    const last = page.at(-1);
    if (page.length < pageSize || !last) break;
    start = `(${last[0]}`;
  }
  return {
    events_read: read,
    accounts: [...byAccount].map(([account_id, events]) => ({ account_id, events })),
  };
}
