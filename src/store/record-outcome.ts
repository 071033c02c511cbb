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
import type { Redis } from 'ioredis';
import type { AccountState, ActionEvent, Intent } from '../model.js';
import { B } from './binding.js';
import { encodeEvent } from './event-codec.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';
import { S } from './status-record.js';

// KEYS: job lock, binding, status, status index, events, pending, account lease.
// ARGV: token ('' = not checked), seq, ttl s, events maxlen, now ms, the answer's updated_at in
//       ms ('' = unknown), is_active ('true'/'false'/''), status_reason, updated_at, then the event's
//       field/value pairs. The binding's and the status's fields are taken from the event, so
//       each value crosses the wire once.
const recordScript = defineScript(`
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'lost'} end
local state, seq = unpack(redis.call('HMGET', KEYS[2], '${B.state}', '${B.seq}'))
if not state or seq ~= ARGV[2] then return {'stale'} end
if state ~= 'queued' then return {'terminal', state} end
local e, fields = {}, {}
for j = 10, #ARGV, 2 do
  e[ARGV[j]] = ARGV[j + 1]
  fields[#fields + 1] = ARGV[j]
  fields[#fields + 1] = ARGV[j + 1]
end
local outcome = string.sub(e.type, 8)
local now, provider, key = ARGV[5], e.provider_id, e.idempotency_key
redis.call('HSET', KEYS[2], '${B.state}', outcome, '${B.finishedAt}', now,
  '${B.httpStatus}', e.http_status, '${B.errorCode}', e.error_code,
  '${B.errorMessage}', e.error_message, '${B.requestId}', e.request_id,
  '${B.accountStatus}', e.account_status, '${B.supersededBy}', e.superseded_by)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('ZREM', KEYS[6], key)
if outcome ~= 'superseded' then
  local lastSeq, statusSeq, shownMs = unpack(redis.call('HMGET', KEYS[3], '${S.lastSeq}', '${S.statusSeq}', '${S.updatedAtMs}'))
  local mine = tonumber(seq)
  if not lastSeq or tonumber(lastSeq) <= mine then
    redis.call('HSET', KEYS[3], '${S.providerId}', provider, '${S.lastSeq}', seq,
      '${S.lastAction}', e.action, '${S.lastOutcome}', outcome, '${S.idempotencyKey}', key,
      '${S.source}', e.source, '${S.sourceRef}', e.source_ref, '${S.reason}', e.reason,
      '${S.recordedAt}', e.at)
    if outcome == 'failed' then
      redis.call('HSET', KEYS[3], '${S.errorCode}', e.error_code, '${S.errorStatus}', e.http_status,
        '${S.errorMessage}', e.error_message, '${S.errorRequestId}', e.request_id, '${S.errorAt}', e.at)
    end
  end
  if outcome == 'succeeded' then
    local answered, shown = tonumber(ARGV[6]), tonumber(shownMs)
    local newer = (not shown) or (answered and answered > shown)
    local same = answered == shown or not answered
    if newer or (same and mine >= tonumber(statusSeq or '0')) then
      redis.call('HSET', KEYS[3], '${S.statusSeq}', seq, '${S.updatedAtMs}', ARGV[6],
        '${S.status}', e.account_status, '${S.isActive}', ARGV[7], '${S.statusReason}', ARGV[8],
        '${S.updatedAt}', ARGV[9], '${S.requestId}', e.request_id)
    end
  end
  redis.call('ZADD', KEYS[4], now, provider)
end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[4], '*', unpack(fields))
if redis.call('GET', KEYS[7]) == key then redis.call('DEL', KEYS[7]) end
return {'recorded'}
`);

export interface OutcomeBase {
  intent: Intent;
  /** The binding's sequence number (the job's generation). */
  seq: number;
  jobId: string;
  /** Calls started for the intent. */
  attempts: number;
  at: Date;
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
export type Outcome = Success | Failure | Superseded;

export type RecordResult = 'recorded' | 'lost' | 'stale' | 'terminal';

export interface RecordSettings {
  idempotencyTtlS: number;
  eventsMaxLen: number;
}

function eventOf(o: Outcome, at: string): ActionEvent {
  const { intent } = o;
  const common = {
    provider_id: intent.providerId,
    action: intent.action,
    idempotency_key: intent.idempotencyKey,
    job_id: o.jobId,
    source: intent.source,
    source_ref: intent.sourceRef ?? null,
    reason: intent.reason,
    attempts: o.attempts,
    at,
  };
  switch (o.outcome) {
    case 'succeeded':
      return {
        ...common,
        type: 'action.succeeded',
        http_status: o.httpStatus,
        error_code: null,
        error_message: null,
        request_id: o.requestId,
        account_status: o.account.status,
        superseded_by: null,
      };
    case 'failed':
      return {
        ...common,
        type: 'action.failed',
        http_status: o.httpStatus,
        error_code: o.errorCode,
        error_message: o.errorMessage,
        request_id: o.requestId,
        account_status: null,
        superseded_by: null,
      };
    case 'superseded':
      return {
        ...common,
        type: 'action.superseded',
        http_status: null,
        error_code: null,
        error_message: null,
        request_id: null,
        account_status: null,
        superseded_by: o.by,
      };
  }
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
): Promise<RecordResult> {
  const { intent } = o;
  const at = o.at.toISOString();
  const event = eventOf(o, at);
  let updatedAtMs = '';
  let isActive = '';
  let statusReason = '';
  let updatedAt = '';
  if (o.outcome === 'succeeded') {
    const a = o.account;
    const ms = a.updated_at === null ? NaN : Date.parse(a.updated_at);
    updatedAtMs = Number.isFinite(ms) ? String(ms) : '';
    isActive = a.is_active === null ? '' : String(a.is_active);
    statusReason = a.status_reason ?? '';
    updatedAt = a.updated_at ?? '';
  }
  const reply = (await recordScript(
    redis,
    [
      keys.jobLock(o.jobId),
      keys.binding(intent.idempotencyKey),
      keys.status(intent.providerId),
      keys.statusIndex,
      keys.events,
      keys.pending,
      keys.accountLease(intent.providerId),
    ],
    [
      token ?? '',
      o.seq,
      settings.idempotencyTtlS,
      settings.eventsMaxLen,
      o.at.getTime(),
      updatedAtMs,
      isActive,
      statusReason,
      updatedAt,
      ...encodeEvent(event),
    ],
  )) as [RecordResult, string?];
  return reply[0];
}
