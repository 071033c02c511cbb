/**
 * Deterministic seed data: `n` regular accounts plus the shared Amazon SES account and a
 * locked account whose state forbids activate/deactivate.
 *
 * Regular account i (from 1): every 11th is `outlook_api` (every 22nd without a refresh
 * token), otherwise every 7th is `gmail_api`, the rest are `smtp`. The 11 rule wins over the
 * 7 rule so that "every 22nd" always lands on an Outlook account.
 */
import type {
  ProviderAllowedActions,
  ProviderItem,
  ProviderQuotaRange,
  ProviderType,
} from './types.js';

export const SIM_SHARED_SES_ID = 'dprov_sim_ses_shared';
export const SIM_LOCKED_ID = 'dprov_sim_locked';

const BASE_MS = Date.UTC(2026, 0, 1);
const MINUTE_MS = 60_000;

/** Regular seeded account id, i from 1: `dprov_sim000001`. */
export function simAccountId(i: number): string {
  return `dprov_sim${String(i).padStart(6, '0')}`;
}

/** RFC 3339 UTC with seconds precision: `2026-11-28T01:02:03Z`. */
export function rfc3339(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

const range = (n: number): ProviderQuotaRange => ({ min: n, max: n });
const allActions = (): ProviderAllowedActions => ({
  update: true,
  delete: true,
  activate: true,
  deactivate: true,
  test: true,
});

/** A valid active account item of the given id, name and type (exported for tests' own servers). */
export function activeAccountItem(
  id: string,
  name: string,
  type: ProviderType,
  createdMs: number,
): ProviderItem {
  const ts = rfc3339(createdMs);
  return {
    id,
    name,
    type,
    status: 'active',
    status_reason: null,
    is_active: true,
    is_shared: false,
    is_editable: true,
    allowed_actions: allActions(),
    smtp_host: null,
    smtp_port: null,
    smtp_protocol: null,
    smtp_username: null,
    has_smtp_password: false,
    from_email: null,
    from_name: null,
    reply_to_email: null,
    reply_to_name: null,
    oauth_email: null,
    has_refresh_token: false,
    quotas: {
      per_second: range(5),
      per_minute: range(100),
      per_hour: range(2_000),
      per_day: range(20_000),
    },
    percentage: 100,
    tracking_domain: null,
    created_at: ts,
    updated_at: ts,
    last_tested_at: null,
    last_used_at: null,
  };
}

function smtp(id: string, name: string, local: string, createdMs: number): ProviderItem {
  return {
    ...activeAccountItem(id, name, 'smtp', createdMs),
    smtp_host: 'smtp.sim.example',
    smtp_port: 587,
    smtp_protocol: 'starttls',
    smtp_username: `${local}@sim.example`,
    has_smtp_password: true,
    from_email: `${local}@sim.example`,
    from_name: name,
  };
}

function regular(i: number): ProviderItem {
  const id = simAccountId(i);
  const pad = String(i).padStart(6, '0');
  const createdMs = BASE_MS + (i + 1) * MINUTE_MS;
  if (i % 11 === 0 || i % 7 === 0) {
    const outlook = i % 11 === 0;
    const email = outlook ? `user${pad}@outlook.sim.example` : `user${pad}@gmail.sim.example`;
    const name = outlook ? `Sim Outlook ${pad}` : `Sim Gmail ${pad}`;
    return {
      ...activeAccountItem(id, name, outlook ? 'outlook_api' : 'gmail_api', createdMs),
      from_email: email,
      from_name: name,
      oauth_email: email,
      has_refresh_token: !(outlook && i % 22 === 0),
      quotas: {
        per_second: null,
        per_minute: range(30),
        per_hour: range(500),
        per_day: range(2_000),
      },
    };
  }
  return smtp(id, `Sim SMTP ${pad}`, `sender${pad}`, createdMs);
}

function sharedSes(): ProviderItem {
  return {
    ...activeAccountItem(SIM_SHARED_SES_ID, 'Sendmux shared Amazon SES', 'amazon_ses', BASE_MS),
    is_shared: true,
    is_editable: false,
    allowed_actions: {
      update: false,
      delete: false,
      activate: true,
      deactivate: true,
      test: false,
    },
    quotas: {
      per_second: range(14),
      per_minute: range(840),
      per_hour: range(50_000),
      per_day: range(200_000),
    },
  };
}

function locked(): ProviderItem {
  return {
    ...smtp(SIM_LOCKED_ID, 'Sim Locked SMTP', 'locked', BASE_MS + MINUTE_MS),
    status_reason: 'Locked by the platform',
    allowed_actions: {
      update: false,
      delete: false,
      activate: false,
      deactivate: false,
      test: true,
    },
  };
}

/** All seeded accounts, oldest first: shared SES, locked, then regular 1..n. */
export function seedAccounts(n: number): ProviderItem[] {
  const items = [sharedSes(), locked()];
  for (let i = 1; i <= n; i++) items.push(regular(i));
  return items;
}
