/**
 * Public types of the Sendmux Management API simulator.
 *
 * `ProviderItem` mirrors `components.schemas.ProviderItem` of
 * `spec/sendmux/openapi-management.json`: every property is required, nullable ones are
 * `T | null`, and there are no extra properties (the schema sets additionalProperties false).
 */
import type { FastifyInstance } from 'fastify';

export type ProviderType = 'smtp' | 'gmail_api' | 'outlook_api' | 'amazon_ses';
export type ProviderStatus = 'active' | 'inactive' | 'error' | 'pending';
export type ProviderAction = 'activate' | 'deactivate';

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
}

export type SimStep =
  | { kind: 'status'; status: 500 | 503 | 429; retryAfterS?: number }
  | { kind: 'drop' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number };

export interface SimulatorOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  readOnlyApiKey?: string;
  accounts?: number;
  rateLimit?: number;
  rateWindowMs?: number;
  faults?: Partial<SimFaults>;
  idempotencyTtlMs?: number;
  random?: () => number;
}

export interface SimStats {
  requests: number;
  executions: {
    total: number;
    byKey: Record<string, number>;
    byAccount: Record<string, { activate: number; deactivate: number }>;
  };
  replays: number;
  inFlightConflicts: number;
  rateLimited: number;
  faults: { error500: number; error503: number; drop: number; hang: number };
}

export interface Simulator {
  /** Base URL including /api/v1. */
  url: string;
  origin: string;
  app: FastifyInstance;
  stats(): SimStats;
  setFaults(f: Partial<SimFaults>): void;
  script(providerId: string, steps: SimStep[]): void;
  account(id: string): ProviderItem | undefined;
  reset(): void;
  close(): Promise<void>;
}
