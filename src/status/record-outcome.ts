/**
 * Record the outcome of an action in one atomic step: the account's status, the idempotency
 * record's state, the status index and one event on the stream.
 *
 * Idempotent: if the idempotency record already carries this outcome (a job re-run after a
 * crash, a replayed answer), nothing is written and no second event is emitted.
 */
import type { Redis } from 'ioredis';
import type { Intent } from '../actions/intent.js';
import { encodeEvent, type ActionEvent } from '../events/types.js';
import type { Keys } from '../keys.js';
import { SendmuxError } from '../sendmux/errors.js';
import type { ProviderItem } from '../sendmux/schemas.js';
import { defineScript } from '../store/script.js';

const recordOutcomeScript = defineScript(`
local idem, status, index, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local outcome, ttl, maxlen, now, provider = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
if redis.call('HGET', idem, 'state') == outcome then return 0 end
redis.call('HSET', idem, 'state', outcome, 'job_id', ARGV[6], 'finished_at', now)
redis.call('EXPIRE', idem, ttl)
local nStatus = tonumber(ARGV[7])
local statusFields = {}
for i = 8, 7 + nStatus do statusFields[#statusFields + 1] = ARGV[i] end
redis.call('HSET', status, unpack(statusFields))
redis.call('ZADD', index, now, provider)
local eventFields = {}
for i = 8 + nStatus, #ARGV do eventFields[#eventFields + 1] = ARGV[i] end
redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', unpack(eventFields))
return 1
`);

export interface OutcomeBase {
  intent: Intent;
  jobId: string;
  attempts: number;
  at: Date;
}
export interface Success extends OutcomeBase {
  outcome: 'succeeded';
  account: ProviderItem;
  requestId: string;
  httpStatus: number;
}
export interface Failure extends OutcomeBase {
  outcome: 'failed';
  httpStatus: number | null;
  errorCode: string;
  errorMessage: string;
  requestId: string | null;
}
export type Outcome = Success | Failure;

/**
 * The failure record for an error: an API answer keeps its status, code and request id;
 * anything else (a bug, a give-up by the worker) gets `fallbackCode` and no HTTP status.
 */
export function failureOf(base: OutcomeBase, err: Error, fallbackCode = 'worker_error'): Failure {
  const api = err instanceof SendmuxError ? err : undefined;
  return {
    ...base,
    outcome: 'failed',
    httpStatus: api?.status ?? null,
    errorCode: api?.code ?? fallbackCode,
    errorMessage: err.message,
    requestId: api?.requestId ?? null,
  };
}

export interface RecordSettings {
  idempotencyTtlS: number;
  eventsMaxLen: number;
}

/** @returns true when this call recorded the outcome, false when it was already recorded. */
export async function recordOutcome(
  redis: Redis,
  keys: Keys,
  settings: RecordSettings,
  o: Outcome,
): Promise<boolean> {
  const { intent } = o;
  const at = o.at.toISOString();
  const common = [
    'provider_id',
    intent.providerId,
    'last_action',
    intent.action,
    'last_outcome',
    o.outcome,
    'idempotency_key',
    intent.idempotencyKey,
    'source',
    intent.source,
    'source_ref',
    intent.sourceRef ?? '',
    'reason',
    intent.reason,
    'recorded_at',
    at,
  ];
  const statusFields =
    o.outcome === 'succeeded'
      ? [
          ...common,
          'status',
          o.account.status,
          'is_active',
          String(o.account.is_active),
          'status_reason',
          o.account.status_reason ?? '',
          'updated_at',
          o.account.updated_at,
          'request_id',
          o.requestId,
        ]
      : [
          ...common,
          'last_error_code',
          o.errorCode,
          'last_error_status',
          o.httpStatus === null ? '' : String(o.httpStatus),
          'last_error_message',
          o.errorMessage,
          'last_error_request_id',
          o.requestId ?? '',
          'last_error_at',
          at,
        ];
  const event: ActionEvent = {
    type: o.outcome === 'succeeded' ? 'action.succeeded' : 'action.failed',
    provider_id: intent.providerId,
    action: intent.action,
    idempotency_key: intent.idempotencyKey,
    job_id: o.jobId,
    source: intent.source,
    source_ref: intent.sourceRef ?? null,
    reason: intent.reason,
    http_status: o.httpStatus,
    error_code: o.outcome === 'failed' ? o.errorCode : null,
    error_message: o.outcome === 'failed' ? o.errorMessage : null,
    request_id: o.requestId,
    account_status: o.outcome === 'succeeded' ? o.account.status : null,
    attempts: o.attempts,
    at,
  };
  const written = await recordOutcomeScript(
    redis,
    [
      keys.idempotency(intent.idempotencyKey),
      keys.status(intent.providerId),
      keys.statusIndex,
      keys.events,
    ],
    [
      o.outcome,
      settings.idempotencyTtlS,
      settings.eventsMaxLen,
      o.at.getTime(),
      intent.providerId,
      o.jobId,
      statusFields.length,
      ...statusFields,
      ...encodeEvent(event),
    ],
  );
  return written === 1;
}
