/**
 * The binding: the hash `<prefix>:idem:<key>` that ties an idempotency key to one intent and
 * carries it from `queued` to exactly one terminal state. This file owns its field names and
 * its reading; the Lua scripts that write it (claim-keys, begin-run, count-wait,
 * record-outcome) use the names below and nothing else.
 *
 * Lifetime: a queued binding never expires (it must outlive its job, however long the
 * backlog); a terminal one expires `IDEMPOTENCY_TTL_S` after its outcome, like the API's
 * 24 h idempotency window.
 */
import {
  isTerminal,
  normalizeSource,
  type Action,
  type IntentState,
  type Source,
} from '../model.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { decodeActionEvent } from './event-codec.js';
import type { Keys } from './keys.js';

/** Field names of the binding hash. */
export const B = {
  fingerprint: 'fp',
  seq: 'seq',
  state: 'state',
  action: 'action',
  accountId: 'provider_id',
  source: 'source',
  createdAt: 'created_at',
  finishedAt: 'finished_at',
  /** When a run was last let go to call the API (ms; begin-run.ts). */
  beganAt: 'began_at',
  /** Runs started (every start of the job's processor, re-runs after crashes included). */
  starts: 'starts',
  /** Put-backs that consumed no attempt, one counter per kind (see {@link WaitKind}). */
  waitPrefix: 'waits_',
  /** The terminal event as JSON (event-codec.ts), set with the terminal state. */
  event: 'event',
} as const;

/**
 * Lua: write a new binding `BINDING` in state `queued`, without expiry until its outcome (the
 * one place that lists its fields; claim-keys.ts, record-outcome.ts and the hold scripts bind
 * keys with it). The caller makes it
 * the account's newest intent and adds it to the pending set where that applies.
 */
export function bindLua(
  BINDING: string,
  FP: string,
  SEQ: string,
  ACTION: string,
  ID: string,
  SOURCE: string,
  NOW: string,
): string {
  return `redis.call('HSET', ${BINDING}, '${B.fingerprint}', ${FP}, '${B.seq}', ${SEQ}, '${B.state}', 'queued',
    '${B.action}', ${ACTION}, '${B.accountId}', ${ID}, '${B.source}', ${SOURCE}, '${B.createdAt}', ${NOW})
  redis.call('PERSIST', ${BINDING})`;
}

/** Kinds of put-back that consume no attempt, each counted and capped on its own. */
export const WAIT_KINDS = ['rate_limit', 'in_flight', 'auth', 'shutdown'] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];

export interface Binding {
  key: string;
  state: IntentState;
  seq: number;
  fingerprint: string;
  action: Action;
  accountId: string;
  source: Source;
  createdAt: number;
  finishedAt: number | null;
  /** When a run was last let go to call the API (ms), null before any. */
  beganAt: number | null;
  starts: number;
  waits: Record<WaitKind, number>;
  /** Outcome details, from the terminal event (null while queued). */
  httpStatus: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  requestId: string | null;
  accountStatus: string | null;
  supersededBy: string | null;
}

function decode(key: string, h: Record<string, string>): Binding | undefined {
  const state = h[B.state];
  if (state === undefined) return undefined;
  const num = (k: string) => (h[k] ? Number(h[k]) : null);
  const raw = h[B.event];
  const event = raw ? decodeActionEvent(undefined, raw) : undefined;
  return {
    key,
    state: state === 'queued' || isTerminal(state) ? state : 'queued',
    seq: num(B.seq) ?? 0,
    fingerprint: h[B.fingerprint] ?? '',
    action: (h[B.action] ?? 'deactivate') as Action,
    accountId: h[B.accountId] ?? '',
    source: normalizeSource(h[B.source] ?? 'manual') as Source,
    createdAt: num(B.createdAt) ?? 0,
    finishedAt: num(B.finishedAt),
    beganAt: num(B.beganAt),
    starts: num(B.starts) ?? 0,
    waits: {
      rate_limit: num(`${B.waitPrefix}rate_limit`) ?? 0,
      in_flight: num(`${B.waitPrefix}in_flight`) ?? 0,
      auth: num(`${B.waitPrefix}auth`) ?? 0,
      shutdown: num(`${B.waitPrefix}shutdown`) ?? 0,
    },
    httpStatus: event?.http_status ?? null,
    errorCode: event?.error_code ?? null,
    errorMessage: event?.error_message ?? null,
    requestId: event?.request_id ?? null,
    accountStatus: event?.account_status ?? null,
    supersededBy: event?.superseded_by ?? null,
  };
}

/** The bindings of the given keys, in order (`undefined` where none exists). One round trip. */
export async function readBindings(
  redis: Redis,
  keys: Keys,
  idempotencyKeys: readonly string[],
): Promise<(Binding | undefined)[]> {
  if (idempotencyKeys.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const k of idempotencyKeys) pipeline.hgetall(keys.binding(k));
  const replies = (await pipeline.exec()) ?? [];
  return idempotencyKeys.map((k, i) => {
    const [err, hash] = replies[i] ?? [null, null];
    if (err) throw err;
    return hash && typeof hash === 'object' ? decode(k, hash as Record<string, string>) : undefined;
  });
}

/** Only the state of each key's binding (`undefined` where none exists). One round trip. */
export async function readStates(
  redis: Redis,
  keys: Keys,
  idempotencyKeys: readonly string[],
): Promise<(IntentState | undefined)[]> {
  if (idempotencyKeys.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const k of idempotencyKeys) pipeline.hget(keys.binding(k), B.state);
  const replies = (await pipeline.exec()) ?? [];
  return idempotencyKeys.map((_k, i) => {
    const [err, state] = replies[i] ?? [null, null];
    if (err) throw err;
    return state === 'queued' || (typeof state === 'string' && isTerminal(state))
      ? state
      : undefined;
  });
}
