/**
 * What the Sendmux client offers (client.ts builds it): the {@link SendmuxClient} interface, its
 * options, and the shape of a successful answer.
 */
import type { Action } from '../model.js';
import type { AccountAnswer } from './account-answer.js';
import type { RateLimitInfo } from './rate-limit-headers.js';
import type {
  DeliveryLogItem,
  DeliveryLogStatus,
  ProviderItem,
  ProviderStatus,
  ProviderType,
} from './schemas.js';

export interface SendmuxClientOptions {
  /** e.g. `https://app.sendmux.ai/api/v1` */
  baseUrl: string;
  apiKey: string;
  /** Whole-request timeout. @defaultValue 10000 */
  timeoutMs?: number;
  /** Keep-alive sockets per origin. @defaultValue 256 */
  maxSockets?: number;
  userAgent?: string;
}

/** A successful answer and what came with it. */
export interface ApiResult<T> {
  data: T;
  status: number;
  requestId: string;
  rateLimit: RateLimitInfo | undefined;
}

export interface CallOptions {
  /** Sent as `Idempotency-Key`; reuse it for every retry of one logical operation. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface ListFilter {
  status?: ProviderStatus;
  type?: ProviderType;
  /** Page size 1..100. @defaultValue 100 */
  limit?: number;
}

export interface DeliveryLogSearchOptions extends CallOptions {
  /** Page size 1..100: only the first page is read. @defaultValue 100 */
  limit?: number;
  /** Runs before the GET (e.g. to spend the shared rate budget). */
  beforeRequest?: () => Promise<void>;
}

export interface DeliveryLogFilter {
  /** ISO 8601: logs created from then on (`from_date`). */
  fromDate?: string;
  /** ISO 8601: logs created up to then (`to_date`). */
  toDate?: string;
  providerId?: string;
  status?: DeliveryLogStatus;
  /** Page size 1..100. @defaultValue 100 */
  limit?: number;
}

export interface DeliveryLogListOptions {
  signal?: AbortSignal;
  /** Runs before each page's GET (e.g. to spend the shared rate budget). */
  beforeRequest?: () => Promise<void>;
  /** Runs after each page with what its answer said about the rate limit. */
  afterResponse?: (rateLimit: RateLimitInfo | undefined) => Promise<void>;
  /** @defaultValue MAX_LIST_PAGES (pagination.ts) */
  maxPages?: number;
}

export interface SendmuxClient {
  /** POST /providers/{id}/deactivate or /activate. */
  runAction(
    action: Action,
    accountId: string,
    options?: CallOptions,
  ): Promise<ApiResult<AccountAnswer>>;
  deactivate(accountId: string, options?: CallOptions): Promise<ApiResult<AccountAnswer>>;
  activate(accountId: string, options?: CallOptions): Promise<ApiResult<AccountAnswer>>;
  /** GET /providers/{id}, read leniently like an action's answer. */
  readAccount(
    accountId: string,
    options?: { signal?: AbortSignal },
  ): Promise<ApiResult<AccountAnswer>>;
  getProvider(
    accountId: string,
    options?: { signal?: AbortSignal },
  ): Promise<ApiResult<ProviderItem>>;
  /**
   * Every account matching the filter, following cursor pages lazily. `beforeRequest` runs
   * before each page's GET (e.g. to spend the shared rate budget). Throws a SendmuxError with
   * code `invalid_pagination` when the API repeats a cursor or the pages go past `maxPages`
   * (default MAX_LIST_PAGES, pagination.ts): a listing always ends.
   */
  listProviders(
    filter?: ListFilter,
    options?: { signal?: AbortSignal; beforeRequest?: () => Promise<void>; maxPages?: number },
  ): AsyncIterable<ProviderItem>;
  /**
   * GET /emails/logs?search=: the first page of delivery logs, newest first, whose to_email,
   * from_email, sent_from_email, subject or message_id contains `search` (the API's match, a
   * substring: callers looking for one message id compare `message_id` themselves). A read:
   * no Idempotency-Key is sent (`idempotencyKey` is ignored).
   */
  searchDeliveryLogs(
    search: string,
    options?: DeliveryLogSearchOptions,
  ): Promise<DeliveryLogItem[]>;
  /**
   * GET /emails/logs: every delivery log matching the filter, newest first, following cursor
   * pages lazily (the same guard as {@link SendmuxClient.listProviders}: a listing always ends).
   */
  listDeliveryLogs(
    filter?: DeliveryLogFilter,
    options?: DeliveryLogListOptions,
  ): AsyncIterable<DeliveryLogItem>;
  /** Close keep-alive sockets. */
  close(): void;
}
