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
// ARGV: token ('' = not checked), seq, outcome, ttl s, events maxlen, now ms, provider id, key,
//       answer's updated_at in ms ('' = unknown), then three counted lists: binding fields,
//       intent fields of the status, account fields of the status; then the event's fields.
const recordScript = defineScript(`
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'lost'} end
local state, seq = unpack(redis.call('HMGET', KEYS[2], '${B.state}', '${B.seq}'))
if not state or seq ~= ARGV[2] then return {'stale'} end
if state ~= 'queued' then return {'terminal', state} end
local outcome, now, provider, key = ARGV[3], ARGV[6], ARGV[7], ARGV[8]
local p = 10
local function list()
  local n, out = tonumber(ARGV[p]), {}
  for j = p + 1, p + n do out[#out + 1] = ARGV[j] end
  p = p + n + 1
  return out
end
local bindingFields = list()
local intentFields = list()
local accountFields = list()
redis.call('HSET', KEYS[2], '${B.state}', outcome, '${B.finishedAt}', now, unpack(bindingFields))
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('ZREM', KEYS[6], key)
if outcome ~= 'superseded' then
  local lastSeq, statusSeq, shownMs = unpack(redis.call('HMGET', KEYS[3], '${S.lastSeq}', '${S.statusSeq}', '${S.updatedAtMs}'))
  local mine = tonumber(seq)
  if not lastSeq or tonumber(lastSeq) <= mine then
    redis.call('HSET', KEYS[3], '${S.providerId}', provider, '${S.lastSeq}', seq, unpack(intentFields))
  end
  if #accountFields > 0 then
    local answered, shown = tonumber(ARGV[9]), tonumber(shownMs)
    local newer = (not shown) or (answered and answered > shown)
    local same = answered == shown or not answered
    if newer or (same and mine >= tonumber(statusSeq or '0')) then
      redis.call('HSET', KEYS[3], '${S.statusSeq}', seq, '${S.updatedAtMs}', ARGV[9], unpack(accountFields))
    end
  end
  redis.call('ZADD', KEYS[4], now, provider)
end
local eventFields = {}
for j = p, #ARGV do eventFields[#eventFields + 1] = ARGV[j] end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[5], '*', unpack(eventFields))
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

const counted = (fields: readonly string[]) => [fields.length, ...fields];

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
  const bindingFields = [
    B.httpStatus,
    event.http_status === null ? '' : String(event.http_status),
    B.errorCode,
    event.error_code ?? '',
    B.errorMessage,
    event.error_message ?? '',
    B.requestId,
    event.request_id ?? '',
    B.accountStatus,
    event.account_status ?? '',
    B.supersededBy,
    event.superseded_by ?? '',
  ];
  const intentFields = [
    S.lastAction,
    intent.action,
    S.lastOutcome,
    o.outcome,
    S.idempotencyKey,
    intent.idempotencyKey,
    S.source,
    intent.source,
    S.sourceRef,
    intent.sourceRef ?? '',
    S.reason,
    intent.reason,
    S.recordedAt,
    at,
  ];
  if (o.outcome === 'failed') {
    intentFields.push(
      S.errorCode,
      o.errorCode,
      S.errorStatus,
      o.httpStatus === null ? '' : String(o.httpStatus),
      S.errorMessage,
      o.errorMessage,
      S.errorRequestId,
      o.requestId ?? '',
      S.errorAt,
      at,
    );
  }
  let accountFields: string[] = [];
  let updatedAtMs = '';
  if (o.outcome === 'succeeded') {
    const a = o.account;
    const ms = a.updated_at === null ? NaN : Date.parse(a.updated_at);
    updatedAtMs = Number.isFinite(ms) ? String(ms) : '';
    accountFields = [
      S.status,
      a.status ?? '',
      S.isActive,
      a.is_active === null ? '' : String(a.is_active),
      S.statusReason,
      a.status_reason ?? '',
      S.updatedAt,
      a.updated_at ?? '',
      S.requestId,
      o.requestId ?? '',
    ];
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
      o.outcome,
      settings.idempotencyTtlS,
      settings.eventsMaxLen,
      o.at.getTime(),
      intent.providerId,
      intent.idempotencyKey,
      updatedAtMs,
      ...counted(bindingFields),
      ...counted(intentFields),
      ...counted(accountFields),
      ...encodeEvent(event),
    ],
  )) as [RecordResult, string?];
  return reply[0];
}
