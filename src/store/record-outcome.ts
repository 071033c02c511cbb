/**
 * Record the outcome of an intent in one atomic step: the binding's terminal state, the
 * account's status, the status index and exactly one event on the stream.
 *
 * Refused, with nothing written, when
 * - the run no longer owns its job (`lost`: BullMQ's lock holds another token or none), so a
 *   run that lost its lock in the middle of a call never records;
 * - the binding belongs to another generation of the key (`stale`);
 * - the intent already has its terminal state (`terminal`): once an intent is terminal,
 *   nothing changes it, so there is never a second event.
 * The status moves forward only (see status-record.ts).
 */
import { countAction } from '../metrics/metrics.js';
import { fingerprint, type AccountState, type ActionEvent, type Intent } from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { RateLimitInfo } from '../sendmux/rate-limit-headers.js';
import { closeAccountLua } from './batch-record.js';
import { closeUndoActivationLua, undoActivationKey } from './batch-undo-record.js';
import { B, bindLua } from './binding.js';
import { encodeEvent, EVENT_FIELD } from './event-codec.js';
import { releaseHoldLua } from './hold-lua.js';
import { intentHoldId } from './hold-record.js';
import type { Keys } from './keys.js';
import { observeWindowLua } from './rate-budget.js';
import { defineScript } from './script.js';
import { encodeAccountPart, S } from './status-record.js';

// KEYS: job lock, binding, status, status index, events, pending, account lease, batch,
//       batch accounts, rate budget, holds, holds index, batch undo.
// ARGV: token ('' = not checked), seq, ttl s, events maxlen, now ms, outcome, account id,
//       idempotency key, the event as JSON, the answer's updated_at in ms ('' = unknown), the
//       account part of the status as JSON ('' unless succeeded), '1' if the intent belongs
//       to a bulk run (source bulk, source_ref = the batch id) else '', then the answer's
//       X-RateLimit limit, remaining and reset in ms ('' when it had none), then, to bind a
//       key that was never bound (see {@link RecordOptions.bindIfMissing}), its fingerprint,
//       action and source ('' otherwise), then the id of the hold to release because the
//       account does not exist ('' = none; see {@link notFoundHoldId}), then '1' if the intent
//       is `batch undo`'s activation for the account (its key undoActivationKey) else ''.
// The event is one value, written as is to the binding, the status and the stream: the script
// stays small, and each value crosses the wire once.
const recordScript = defineScript(`
${observeWindowLua('KEYS[10]', 'ARGV[13]', 'ARGV[14]', 'ARGV[15]')}
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'lost'} end
if ARGV[16] ~= '' and redis.call('EXISTS', KEYS[2]) == 0 then
  ${bindLua('KEYS[2]', 'ARGV[16]', 'ARGV[2]', 'ARGV[17]', 'ARGV[7]', 'ARGV[18]', 'ARGV[5]')}
end
local state, seq = unpack(redis.call('HMGET', KEYS[2], '${B.state}', '${B.seq}'))
if not state or seq ~= ARGV[2] then return {'stale'} end
if state ~= 'queued' then return {'terminal', state} end
local now, outcome, provider, key, event = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
redis.call('HSET', KEYS[2], '${B.state}', outcome, '${B.finishedAt}', now, '${B.event}', event)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('ZREM', KEYS[6], key)
if outcome ~= 'superseded' and outcome ~= 'cancelled' then
  local lastSeq, statusSeq, shownMs = unpack(redis.call('HMGET', KEYS[3], '${S.lastSeq}', '${S.statusSeq}', '${S.updatedAtMs}'))
  local mine = tonumber(seq)
  if not lastSeq or tonumber(lastSeq) <= mine then
    if outcome == 'failed' then
      redis.call('HSET', KEYS[3], '${S.lastSeq}', seq, '${S.last}', event, '${S.lastError}', event)
    else
      redis.call('HSET', KEYS[3], '${S.lastSeq}', seq, '${S.last}', event)
    end
  end
  if outcome == 'succeeded' then
    local answered, shown = tonumber(ARGV[10]), tonumber(shownMs)
    local newer = (not shown) or (answered and answered > shown)
    local same = answered == shown or not answered
    if newer or (same and mine >= tonumber(statusSeq or '0')) then
      redis.call('HSET', KEYS[3], '${S.statusSeq}', seq, '${S.updatedAtMs}', ARGV[10], '${S.account}', ARGV[11])
    end
  end
  redis.call('ZADD', KEYS[4], now, provider)
else
  -- Indexed (without moving an entry that is there) so the retention sweep finds the account.
  redis.call('ZADD', KEYS[4], 'NX', now, provider)
end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[4], '*', '${EVENT_FIELD}', event)
if redis.call('GET', KEYS[7]) == key then redis.call('DEL', KEYS[7]) end
-- Only the batch's own intent for the account closes it: the field is '' until then. Another
-- intent with the same ref (the activations of batch undo) leaves the record as it is.
if ARGV[12] == '1' and redis.call('HGET', KEYS[9], provider) == '' then
${closeAccountLua('KEYS[9]', 'KEYS[8]', 'provider', 'event', 'outcome', 'now')}
end
-- The undo's activation: its outcome is counted in the batch's undo (batch-undo-record.ts).
if ARGV[20] == '1' then
${closeUndoActivationLua('KEYS[13]', 'KEYS[8]', 'provider', 'outcome', 'now')}
end
-- The API does not know the account: the hold this intent was asked under goes with it, and no
-- activation is bound (nothing could switch it back on).
if ARGV[19] ~= '' then
  ${releaseHoldLua('KEYS[11]', 'KEYS[12]', 'provider', 'ARGV[19]')}
end
return {'recorded'}
`);

export interface OutcomeBase {
  intent: Intent;
  /** The binding's sequence number (the job's generation). */
  seq: number;
  jobId: string;
  /** The job's queue, when not the actions queue (its lock lives there: keys.jobLock). */
  queue?: string;
  /** Calls started for the intent. */
  attempts: number;
  at: Date;
  /** What the answer said about the key's window: the shared budget learns from it. */
  rateLimit?: RateLimitInfo | undefined;
}
export interface Success extends OutcomeBase {
  outcome: 'succeeded';
  account: AccountState;
  requestId: string | null;
  httpStatus: number;
}
export interface Failure extends OutcomeBase {
  outcome: 'failed';
  httpStatus: number | null;
  errorCode: string;
  errorMessage: string;
  requestId: string | null;
}
export interface Superseded extends OutcomeBase {
  outcome: 'superseded';
  /** Key of the newer intent for the same account. */
  by: string;
}
/** Cancelled before it ran: its job was removed from the queue. */
export interface Cancelled extends OutcomeBase {
  outcome: 'cancelled';
}
export type Outcome = Success | Failure | Superseded | Cancelled;

export type RecordResult = 'recorded' | 'lost' | 'stale' | 'terminal';

export interface RecordOptions {
  /**
   * The key was never bound (a bulk pass added the account to its batch and was killed before
   * it claimed the key): bind it in the same step, so the outcome lands on a binding that a
   * producer claiming the key at the same moment finds terminal, and never runs. A binding
   * that exists meanwhile is left alone (`stale` if it is another generation than `seq`).
   */
  bindIfMissing?: boolean;
}

export interface RecordSettings {
  idempotencyTtlS: number;
  eventsMaxLen: number;
}

/**
 * The event of an outcome, fields in the order readers print them: the intent's fields, then
 * what the outcome says (null where it says nothing), then attempts and time.
 */
export function outcomeEvent(o: Outcome): ActionEvent {
  const { intent } = o;
  const head = {
    account_id: intent.accountId,
    action: intent.action,
    idempotency_key: intent.idempotencyKey,
    job_id: o.jobId,
    source: intent.source,
    source_ref: intent.sourceRef ?? null,
    actor: intent.actor ?? null,
    reason: intent.reason,
    http_status: null,
    error_code: null,
    error_message: null,
    request_id: null,
    account_status: null,
    superseded_by: null,
    attempts: o.attempts,
    at: o.at.toISOString(),
  } as const;
  // Spreading `head` first keeps its key order; each outcome overrides only what it sets.
  switch (o.outcome) {
    case 'succeeded':
      return {
        type: 'action.succeeded',
        ...head,
        http_status: o.httpStatus,
        request_id: o.requestId,
        account_status: o.account.status,
      };
    case 'failed':
      return {
        type: 'action.failed',
        ...head,
        http_status: o.httpStatus,
        error_code: o.errorCode,
        error_message: o.errorMessage,
        request_id: o.requestId,
      };
    case 'superseded':
      return { type: 'action.superseded', ...head, superseded_by: o.by };
    case 'cancelled':
      return { type: 'action.cancelled', ...head };
  }
}

/**
 * The hold to release with this outcome: a deactivation the API answered 404 `not_found` (the
 * account does not exist) lets go of the hold it was asked under, so an account that does not
 * exist keeps no hold (and no holds-index entry) for ever. '' for every other outcome.
 */
export function notFoundHoldId(o: Outcome): string {
  if (o.outcome !== 'failed' || o.httpStatus !== 404 || o.errorCode !== 'not_found') return '';
  if (o.intent.action !== 'deactivate') return '';
  return intentHoldId(o.intent);
}

/**
 * @param token - the job lock token of the run that records; `undefined` only where the job
 *   has already left the run (the failure backstop, the repair of stuck bindings).
 */
export async function recordOutcome(
  redis: Redis,
  keys: Keys,
  settings: RecordSettings,
  o: Outcome,
  token: string | undefined,
  options: RecordOptions = {},
): Promise<RecordResult> {
  const { intent } = o;
  const batchId = intent.source === 'bulk' ? (intent.sourceRef ?? '') : '';
  let updatedAtMs = '';
  let account = '';
  if (o.outcome === 'succeeded') {
    const ms = o.account.updated_at === null ? NaN : Date.parse(o.account.updated_at);
    updatedAtMs = Number.isFinite(ms) ? String(ms) : '';
    account = encodeAccountPart(o.account, o.requestId);
  }
  const reply = (await recordScript(
    redis,
    [
      keys.jobLock(o.jobId, o.queue),
      keys.binding(intent.idempotencyKey),
      keys.status(intent.accountId),
      keys.statusIndex,
      keys.events,
      keys.pending,
      keys.accountLease(intent.accountId),
      keys.batch(batchId),
      keys.batchAccounts(batchId),
      keys.rateBudget,
      keys.holds(intent.accountId),
      keys.holdsIndex,
      keys.batchUndo(batchId),
    ],
    [
      token ?? '',
      o.seq,
      settings.idempotencyTtlS,
      settings.eventsMaxLen,
      o.at.getTime(),
      o.outcome,
      intent.accountId,
      intent.idempotencyKey,
      encodeEvent(outcomeEvent(o)),
      updatedAtMs,
      account,
      batchId === '' ? '' : '1',
      o.rateLimit?.limit ?? '',
      o.rateLimit?.remaining ?? '',
      o.rateLimit?.resetAtMs ?? '',
      options.bindIfMissing ? fingerprint(intent) : '',
      options.bindIfMissing ? intent.action : '',
      options.bindIfMissing ? intent.source : '',
      notFoundHoldId(o),
      batchId !== '' && intent.idempotencyKey === undoActivationKey(batchId, intent.accountId)
        ? '1'
        : '',
    ],
  )) as [RecordResult, string?];
  // Counted here, where every recorder (worker, backstop, repair, batch cancel) writes it.
  if (reply[0] === 'recorded') countAction(intent.action, o.outcome, intent.source);
  return reply[0];
}
