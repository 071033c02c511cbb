/**
 * What the page reads of GET /v1/overview (src/ops/overview.ts builds it) and of the answer to
 * POST /v1/breakers/:account/reset: only the fields the page uses. Types only (nothing of it is
 * in the bundle); test/unit/status-page-browser.test.ts checks at type level that the server's
 * `Overview` still fits this shape, so a change of the answer that the page would miss fails
 * `npm run typecheck`.
 */

export interface PageHold {
  id: string;
  source: string;
  reason: string;
  at: string;
}

export interface PageAccount {
  account_id: string;
  status: string | null;
  is_active: boolean | null;
  status_reason: string | null;
  last_action: string | null;
  last_outcome: string | null;
  source: string | null;
  reason: string | null;
  recorded_at: string | null;
  last_error: { code: string; http_status: number | null; message: string } | null;
  holds: PageHold[];
  held_before: string | null;
  /** Held, yet not recorded off (its deactivation failed, or it is recorded active). */
  still_on: boolean;
  last_failure: { error_code: string; error_message: string; at: string } | null;
  next_step: string | null;
}

export interface PageBreaker {
  account_id: string;
  state: string;
  trips: number;
  last_trip: { at: string; reason: string } | null;
  open_until: string | null;
  /** act | warn | watch, and where it comes from. */
  mode: { mode: string; from: string };
  /** A warning said within the window (not while watching): warned | would_trip. */
  warning: string | null;
  last_warning: { at: string; reason: string } | null;
  last_would_trip: { at: string; reason: string } | null;
  window: {
    window_s: number;
    delivered: number;
    bounced: number;
    hard_bounced: number;
    complained: number;
    bounce_rate: number | null;
    complaint_rate: number | null;
  };
  rules: {
    bounce_rate: number;
    bounce_warn_rate: number;
    bounce_min_volume: number;
    complaint_rate: number;
    complaint_warn_rate: number;
    complaint_min_volume: number;
  };
}

export interface PageTargets {
  kind: string;
  text: string;
  account_ids: string[];
  count: number | null;
}

export interface PageRunningWindow {
  window_id: string;
  state: string;
  starts_at: string;
  ends_at: string;
  started_at: string | null;
  reason: string;
  targets: PageTargets;
}

export interface PageUpcomingWindow {
  window_id: string;
  next_starts: string[];
  next_ends_at: string | null;
  schedule: string | null;
  reason: string;
  targets: PageTargets;
}

export interface PageFailure {
  at: string;
  account_id: string;
  action: string;
  http_status: number | null;
  error_code: string | null;
  error_message: string | null;
  request_id: string | null;
  source: string;
  idempotency_key: string;
}

export interface PageWindowFailure {
  at: string;
  window_id: string;
  occurrence: string;
  step: string;
  account_ids: string[];
  why: string;
}

export interface PageWebhookEvent {
  event_id: string;
  type: string;
  sender: string | null;
  message_id: string | null;
  at: string;
}

export interface PageAmbiguousEvent extends PageWebhookEvent {
  candidates: string[];
  via: string;
}

export interface PageOverview {
  generated_at: string;
  limits: { windows: number; failures: number; webhook_events: number };
  totals: {
    accounts: number;
    held: number;
    held_off: number;
    held_still_on: number;
    breakers: number;
    windows: number;
  };
  truncated: { accounts: boolean; breakers: boolean; windows: boolean };
  accounts: PageAccount[];
  breakers: PageBreaker[];
  windows: { available: boolean; running: PageRunningWindow[]; upcoming: PageUpcomingWindow[] };
  failures: PageFailure[];
  failures_scanned: number;
  window_failures: PageWindowFailure[];
  webhooks: {
    /** Counters by result (every result the server knows, `ambiguous` among them). */
    results: { ambiguous: number; [result: string]: number };
    unresolved: PageWebhookEvent[];
    ambiguous: PageAmbiguousEvent[];
  };
  can_reset_breakers: boolean;
}

/** GET /v1/accounts: a page of recorded accounts. */
export interface PageAccountsAnswer {
  accounts: PageAccount[];
  next_cursor: string | null;
}

/** A bulk run as GET /v1/batches answers it (`created_by` and `undo` when the server has them). */
export interface PageBatch {
  batch_id: string;
  action: string;
  reason: string;
  created_at: string;
  finished_at: string | null;
  enqueue_done: boolean;
  total: number;
  queued: number;
  succeeded: number;
  failed: number;
  superseded: number;
  cancelled: number;
  cancelled_at: string | null;
  created_by?: string | null;
  cancelled_by?: string | null;
  undo?: {
    state?: string;
    by?: string | null;
    started_at?: string | null;
    finished_at?: string | null;
    [count: string]: unknown;
  } | null;
}

/** GET /v1/batches. */
export interface PageBatchesAnswer {
  batches: PageBatch[];
}

/** GET /v1/whoami: `kind` `read` is a read-only token (no buttons); missing means admin. */
export interface PageWhoami {
  kind?: string;
}

/** The answer to a breaker reset, as far as the page reads it. */
export interface PageResetAnswer {
  hold?: { last?: boolean; before?: string } | null;
}

/** An error answer of the API. */
export interface PageErrorAnswer {
  error?: { code: string; message: string };
}
