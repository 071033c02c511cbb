/**
 * In-memory account state. Each account keeps its pre-serialised JSON and weak ETag so
 * that GET and action responses are string concatenation (O(1) per request).
 * Stored items are never mutated in place: an update replaces the record.
 */
import { createHash } from 'node:crypto';
import { rfc3339, seedAccounts } from './seed.js';
import type {
  ProviderAction,
  ProviderItem,
  ProviderStatus,
  ProviderType,
  SimSettableStatus,
} from './types.js';

export interface StoredAccount {
  readonly item: Readonly<ProviderItem>;
  readonly json: string;
  readonly etag: string;
}

export type ApplyResult =
  /** `changed` is false when the account already was in the asked state (a no-op). */
  | { kind: 'ok'; account: StoredAccount; changed: boolean }
  | { kind: 'not_found' }
  | { kind: 'conflict' };

export interface PageQuery {
  limit: number;
  status?: ProviderStatus | undefined;
  type?: ProviderType | undefined;
  /** Start after this account id (decoded cursor). */
  afterId?: string | undefined;
}

export interface Page {
  items: StoredAccount[];
  hasMore: boolean;
}

function store(item: ProviderItem): StoredAccount {
  const json = JSON.stringify(item);
  const etag = `W/"${createHash('sha1').update(json).digest('hex').slice(0, 16)}"`;
  return { item, json, etag };
}

export class AccountStore {
  private byId = new Map<string, StoredAccount>();
  /** Ids newest first (created_at desc, id desc); the set of accounts never changes between seeds. */
  private order: string[] = [];
  private position = new Map<string, number>();

  constructor(count: number) {
    this.seed(count);
  }

  seed(count: number): void {
    const items = seedAccounts(count);
    this.byId = new Map(items.map((it) => [it.id, store(it)]));
    this.order = items
      .slice()
      .sort((a, b) =>
        a.created_at === b.created_at ? cmp(b.id, a.id) : cmp(b.created_at, a.created_at),
      )
      .map((it) => it.id);
    this.position = new Map(this.order.map((id, i) => [id, i]));
  }

  get(id: string): StoredAccount | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /**
   * Runs an action. Activate/deactivate are state sets. The contract
   * (spec/sendmux/openapi-management.json) documents only 200 "Updated sending account", 404
   * and a 409 described as "Idempotency conflict" for both routes: no error for "already in
   * that state" (the 409 `conflict` code is for a state that forbids the action, here
   * `allowed_actions[action] === false`). So asking for the state the account is already in
   * answers 200 with the current account, unchanged: `updated_at` is not bumped and the ETag
   * stays. "The asked state" is the status the action would set: `inactive` for deactivate;
   * for activate `active`, or `pending` for an OAuth account without a refresh token.
   */
  apply(id: string, action: ProviderAction, nowMs: number): ApplyResult {
    const current = this.byId.get(id);
    if (current === undefined) return { kind: 'not_found' };
    const it = current.item;
    if (!it.allowed_actions[action]) return { kind: 'conflict' };
    const target = targetState(it, action);
    if (target.status === it.status) return { kind: 'ok', account: current, changed: false };
    const account = store({ ...it, ...target, updated_at: rfc3339(nowMs) });
    this.byId.set(id, account);
    return { kind: 'ok', account, changed: true };
  }

  /**
   * Sets the status as a change outside the API's action routes would (the dashboard): the
   * fields an action would set for that status, `updated_at` bumped. An equal status changes
   * nothing (`changed` false). Undefined for an unknown id.
   */
  setStatus(
    id: string,
    status: SimSettableStatus,
    nowMs: number,
  ): { account: StoredAccount; changed: boolean } | undefined {
    const current = this.byId.get(id);
    if (current === undefined) return undefined;
    if (current.item.status === status) return { account: current, changed: false };
    const fields: TargetState =
      status === 'active'
        ? { status: 'active', is_active: true, status_reason: null }
        : { status: 'inactive', is_active: false, status_reason: 'Deactivated in the dashboard' };
    const account = store({ ...current.item, ...fields, updated_at: rfc3339(nowMs) });
    this.byId.set(id, account);
    return { account, changed: true };
  }

  /** One page, newest first; `afterId` must be a known id (see {@link has}). */
  page(q: PageQuery): Page {
    let i = q.afterId === undefined ? 0 : (this.position.get(q.afterId) ?? this.order.length) + 1;
    const items: StoredAccount[] = [];
    for (; i < this.order.length; i++) {
      const acc = this.byId.get(this.order[i] ?? '');
      if (acc === undefined) continue;
      if (q.status !== undefined && acc.item.status !== q.status) continue;
      if (q.type !== undefined && acc.item.type !== q.type) continue;
      if (items.length === q.limit) return { items, hasMore: true };
      items.push(acc);
    }
    return { items, hasMore: false };
  }
}

type TargetState = Pick<ProviderItem, 'status' | 'is_active' | 'status_reason'>;

function targetState(it: ProviderItem, action: ProviderAction): TargetState {
  if (action === 'deactivate')
    return { status: 'inactive', is_active: false, status_reason: 'Deactivated via API' };
  if ((it.type === 'gmail_api' || it.type === 'outlook_api') && !it.has_refresh_token)
    return { status: 'pending', is_active: false, status_reason: 'Reconnect required' };
  return { status: 'active', is_active: true, status_reason: null };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
