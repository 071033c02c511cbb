/**
 * Public types of the Sendmux Management API simulator.
 *
 * `ProviderItem` and `DeliveryLogItem` mirror `components.schemas.ProviderItem` and
 * `components.schemas.DeliveryLogItem` of `spec/sendmux/openapi-management.json`: every property
 * is required, nullable ones are `T | null`, and there are no extra properties (the schemas set
 * additionalProperties false).
 */
import type { FastifyInstance } from 'fastify';
import type { Action } from '../model.js';

export type ProviderType = 'smtp' | 'gmail_api' | 'outlook_api' | 'amazon_ses';
export type ProviderStatus = 'active' | 'inactive' | 'error' | 'pending';
/** The two actions, as the project's glossary names them. */
export type ProviderAction = Action;

export interface ProviderAllowedActions {
  update: boolean;
  delete: boolean;
  activate: boolean;
  deactivate: boolean;
  test: boolean;
}

export interface ProviderQuotaRange {
  min: number;
  max: number;
}

export interface ProviderQuotas {
  per_second: ProviderQuotaRange | null;
  per_minute: ProviderQuotaRange | null;
  per_hour: ProviderQuotaRange | null;
  per_day: ProviderQuotaRange | null;
}

export interface ProviderItem {
  id: string;
  name: string;
  type: ProviderType;
  status: ProviderStatus;
  status_reason: string | null;
  is_active: boolean;
  is_shared: boolean;
  is_editable: boolean;
  allowed_actions: ProviderAllowedActions;
  smtp_host: string | null;
  smtp_port: number | null;
  smtp_protocol: string | null;
  smtp_username: string | null;
  has_smtp_password: boolean;
  from_email: string | null;
  from_name: string | null;
  reply_to_email: string | null;
  reply_to_name: string | null;
  oauth_email: string | null;
  has_refresh_token: boolean;
  quotas: ProviderQuotas;
  percentage: number | null;
  tracking_domain: string | null;
  created_at: string;
  updated_at: string;
  last_tested_at: string | null;
  last_used_at: string | null;
}

export type DeliveryLogStatus = 'pending' | 'sent' | 'failed' | 'rejected';

/** One delivery log (`GET /emails/logs`): one message sent through one account. */
export interface DeliveryLogItem {
  /** `dlog_...` */
  id: string;
  provider_id: string | null;
  provider_name: string | null;
  /** The Message-ID header. */
  message_id: string | null;
  from_email: string | null;
  sent_from_email: string | null;
  to_email: string | null;
  subject: string | null;
  status: DeliveryLogStatus;
  status_reason: string | null;
  attempts: number;
  sent_at: string | null;
  size_bytes: number | null;
  created_at: string;
  /** 0..50, or null without a recipient snapshot (also the two counts below). */
  recipient_count: number | null;
  accepted_recipient_count: number | null;
  rejected_recipient_count: number | null;
}

/**
 * A delivery log to add to the simulator (see `Simulator.addDeliveryLogs`): the account and
 * the Message-ID, the rest optional with defaults.
 */
export type SimDeliveryLogInput = Partial<DeliveryLogItem> & {
  provider_id: string;
  message_id: string;
};

export interface SimFaults {
  /** 0..1 probability an action request answers 500 internal_error without executing. */
  error500Rate: number;
  /** 0..1 probability of 503 service_unavailable (with Retry-After) without executing. */
  error503Rate: number;
  /** Retry-After seconds sent with 503 answers. */
  retryAfter503S: number;
  /** Added latency for action requests: the operation executes, then the response waits. */
  latencyMs: number;
  /** Uniform extra latency 0..jitter. */
  latencyJitterMs: number;
  /** 0..1: destroy the socket without any response, without executing. */
  dropRate: number;
  /** 0..1: never answer, without executing. */
  hangRate: number;
  /**
   * 0..1: "executed, answer lost": execute, cache the answer for replay, then destroy the
   * socket without answering (a scripted `lost` step can also hang instead).
   */
  lostRate: number;
  /**
   * 0..1 probability a read (`GET /providers/{id}`, a `GET /providers` page) answers 500
   * internal_error (retryable). 0 by default; the draw is made only when this is above 0, so
   * the action draws described above are unchanged.
   */
  readError500Rate: number;
}

/** One entry of the simulator's execution log (`Simulator.log()`, `GET /__sim/log`). */
export interface SimLogEntry {
  /** When it executed (the simulator's clock, epoch ms). */
  at: number;
  /** The Idempotency-Key of the request; null without one, and for changes made outside. */
  key: string | null;
  account: string;
  /** What the account was asked to become (for `outside`: `deactivate` for off, else `activate`). */
  action: ProviderAction;
  /** False for a no-op: the account already was in the asked state. */
  changed: boolean;
  /** `api`: an action request executed; `outside`: the admin state route (POST /__sim/accounts/:id/state). */
  via: 'api' | 'outside';
}

/** The statuses the admin state route can set. */
export type SimSettableStatus = 'active' | 'inactive';

/**
 * One scripted answer for the next action request on an account (see `Simulator.script`).
 * `status`, `drop` and `hang` do not execute and are not cached (a retry with the same key
 * executes); the others execute (except `conflict`) and their answer is cached for replay.
 */
export type SimStep =
  /** Error answer without executing; `retryable` (default true) is `error.retryable` in the body. */
  | { kind: 'status'; status: 500 | 502 | 503 | 429; retryable?: boolean; retryAfterS?: number }
  /** Connection reset without executing. */
  | { kind: 'drop' }
  /** No answer at all, without executing. */
  | { kind: 'hang' }
  /** Execute, then hold the answer `ms`; the key stays in flight until the answer is written. */
  | { kind: 'delay'; ms: number }
  /** Execute and cache the answer, then drop the connection (default) or never answer. */
  | { kind: 'lost'; mode?: 'drop' | 'hang' }
  /** Execute, then overwrite these fields of `data` in a 200 body (off-contract on purpose). */
  | { kind: 'mutate'; set: Record<string, unknown> }
  /** 409 `conflict` (state forbids it) without executing; cached like any 4xx answer. */
  | { kind: 'conflict' };

export interface SimulatorOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  readOnlyApiKey?: string;
  accounts?: number;
  /** Requests per window per API key; 0 turns limiting off (still counted and reported). */
  rateLimit?: number;
  rateWindowMs?: number;
  /** Rate windows aligned to the clock (`[k * window, (k + 1) * window)`), not to a key's first request. */
  rateAligned?: boolean;
  faults?: Partial<SimFaults>;
  idempotencyTtlMs?: number;
  random?: () => number;
  /**
   * Clock in epoch ms (default Date.now) for the rate-limit windows, the idempotency TTL and
   * `updated_at`. Latency, delays and timeouts still use real timers.
   */
  now?: () => number;
}

export interface SimStats {
  requests: number;
  executions: {
    /** Executed actions, including no-ops. */
    total: number;
    /** Executions that found the account already in the asked state (nothing changed). */
    noop: number;
    byKey: Record<string, number>;
    byAccount: Record<string, { activate: number; deactivate: number }>;
  };
  replays: number;
  inFlightConflicts: number;
  rateLimited: number;
  faults: {
    error500: number;
    error502: number;
    error503: number;
    drop: number;
    hang: number;
    /** Executed, answer cached, never delivered. */
    lost: number;
    /** Scripted 409 conflict answers. */
    conflict: number;
    /** 200 bodies rewritten by a mutate step. */
    mutate: number;
  };
}

export interface Simulator {
  /** Base URL including /api/v1. */
  url: string;
  origin: string;
  app: FastifyInstance;
  stats(): SimStats;
  setFaults(f: Partial<SimFaults>): void;
  script(providerId: string, steps: SimStep[]): void;
  /** While true every API request answers 401 authentication_required (admin routes stay open). */
  setKeyRevoked(revoked: boolean): void;
  account(id: string): ProviderItem | undefined;
  /**
   * Sets an account's status as a change made outside the project would (Sendmux's dashboard):
   * `updated_at` is bumped when the status changes (an equal status changes nothing). Logged
   * with `via: 'outside'`. Returns the account as stored, or undefined for an unknown id.
   */
  setAccountStatus(id: string, status: SimSettableStatus): ProviderItem | undefined;
  /**
   * While an account is unreadable, `GET /providers/{id}` for it answers 500 internal_error
   * (retryable); actions and the listing are not affected. Cleared by `reset()`.
   */
  setReadable(id: string, readable: boolean): void;
  /** The execution log, oldest first (see {@link SimLogEntry}); cleared by `reset()`. */
  log(): SimLogEntry[];
  /**
   * Adds delivery logs (`GET /emails/logs`) and returns them as stored. Defaults: id
   * `dlog_sim000001`, ... (in order of addition), `provider_name` and `from_email` from the
   * account when the simulator has it (else null), `status` `sent`, `created_at` now (the
   * simulator's clock), `sent_at` = `created_at` when sent (else null), one recipient, one
   * attempt. Throws a RangeError naming the field for an invalid item or an id already held;
   * then nothing is added.
   */
  addDeliveryLogs(items: SimDeliveryLogInput[]): DeliveryLogItem[];
  /**
   * Zero stats, clear keys, scripts, rate windows, the revoked switch, the delivery logs, the
   * execution log and the unreadable accounts, re-seed accounts; fault rates are kept.
   */
  reset(): void;
  close(): Promise<void>;
}
