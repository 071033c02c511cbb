/**
 * `breaker backtest --from logs --since <time>`: the team's delivery logs (GET /emails/logs,
 * newest first, page after page, each page through the key's budgets as a normal caller:
 * store/api-read-budget.ts) as signals. A log is one message of one account: `sent` counts as
 * delivered, `failed` as a hard bounce (the message could not be delivered), `rejected` as
 * rejected; `pending` has no outcome yet and is skipped. The logs carry no complaints (those
 * come only by webhook), so the complaint rule never crosses on them. The signal's time is
 * `sent_at`, else `created_at`; its id is the log's id.
 */
import { ACCOUNT_ID_RULE } from '../../../model.js';
import type { DeliveryLogItem } from '../../../sendmux/schemas.js';
import { KIND, type KindIndex } from './evaluate.js';
import type { SignalLog } from './signal-log.js';

const KIND_OF_STATUS: Partial<Record<DeliveryLogItem['status'], KindIndex>> = {
  sent: KIND.delivered,
  failed: KIND.hard_bounced,
  rejected: KIND.rejected,
};

/** Logs into `log` until one older than `sinceMs` (or `untilMs` exclusive); resolves with how many were read. */
export async function readLogHistory(
  logs: AsyncIterable<DeliveryLogItem>,
  log: SignalLog,
  sinceMs: number,
  untilMs = Infinity,
): Promise<number> {
  let read = 0;
  for await (const item of logs) {
    const created = Date.parse(item.created_at);
    // Newest first: the first log before the start ends the read (the API's from_date should
    // have ended it already).
    if (created < sinceMs) break;
    read++;
    if (created >= untilMs) continue;
    const kind = KIND_OF_STATUS[item.status];
    if (kind === undefined) {
      log.skip(`delivery log status ${item.status}: no outcome`, item.id);
      continue;
    }
    if (!item.provider_id || !ACCOUNT_ID_RULE.test(item.provider_id)) {
      log.skip('delivery log without a valid provider_id', item.id);
      continue;
    }
    const at = Date.parse(item.sent_at ?? item.created_at);
    if (!Number.isFinite(at)) {
      log.skip('delivery log with an unreadable time', item.id);
      continue;
    }
    log.push(item.provider_id, kind, item.id, at, at);
  }
  return read;
}
