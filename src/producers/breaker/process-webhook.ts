/**
 * One stored webhook event through the breaker: read it, find its account (resolve.ts), count
 * it as a signal (its event id dedupes retried deliveries), and say what became of it. Never
 * throws for a bad, unresolvable or ambiguous event (several accounts could have sent it):
 * those are counted and kept (store/webhook-stats.ts) and acknowledged; only an outage (Redis
 * down) throws, leaving the event to be processed again.
 */
import type { RedisClient as Redis } from '../../redis/connect.js';
import type { Keys } from '../../store/keys.js';
import { countWebhookResult, type WebhookResult } from '../../store/webhook-stats.js';
import type { Breaker } from './breaker.js';
import type { Resolver } from './resolve.js';
import { parseWebhook, signalOf } from './webhook-events.js';

export interface ProcessDeps {
  redis: Redis;
  keys: Keys;
  breaker: Pick<Breaker, 'signal'>;
  resolver: Pick<Resolver, 'resolve'>;
}

export async function processWebhook(deps: ProcessDeps, body: string): Promise<WebhookResult> {
  const parsed = parseWebhook(body);
  let result: WebhookResult;
  if (!parsed.ok) {
    result = 'invalid';
  } else if (!parsed.outcome) {
    result = 'ignored';
  } else {
    const account = await deps.resolver.resolve(parsed.ref);
    if (account.result !== 'resolved') {
      // Counted for no account: none found, or several possible (never a guess among them).
      const kept = {
        event_id: parsed.event.id,
        type: parsed.event.type,
        sender: parsed.event.data.sender ?? null,
        message_id: parsed.event.data.message_id ?? null,
        at: new Date().toISOString(),
      };
      if (account.result === 'ambiguous') {
        const { candidates, via } = account;
        await countWebhookResult(deps.redis, deps.keys, 'ambiguous', { ...kept, candidates, via });
      } else {
        await countWebhookResult(deps.redis, deps.keys, 'unresolved', kept);
      }
      return account.result;
    }
    try {
      const r = await deps.breaker.signal(
        signalOf(parsed.event, parsed.outcome, account.accountId),
      );
      result = r.result;
    } catch (err) {
      // A signal the breaker refuses (a bad occurred_at, say) is this event's problem only.
      if (err instanceof Error && err.name === 'IntentValidationError') result = 'invalid';
      else throw err;
    }
  }
  await countWebhookResult(deps.redis, deps.keys, result);
  return result;
}
