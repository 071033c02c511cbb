/**
 * In-memory delivery logs behind GET /emails/logs, newest first (`created_at` descending, then
 * the later addition first). Like accounts, each keeps its pre-serialised JSON, so a page is
 * string concatenation. Logs are only ever added (`Simulator.addDeliveryLogs`,
 * `POST /__sim/delivery-logs`) or all cleared (reset).
 */
import { z } from 'zod';
import type { SimContext } from './context.js';
import { rfc3339 } from './seed.js';
import type { DeliveryLogItem, DeliveryLogStatus } from './types.js';

export const DELIVERY_LOG_STATUSES: readonly DeliveryLogStatus[] = [
  'pending',
  'sent',
  'failed',
  'rejected',
];

export interface StoredLog {
  readonly item: Readonly<DeliveryLogItem>;
  readonly json: string;
  /** `created_at` in epoch ms, the sort key. */
  readonly ms: number;
  /** Order of addition, the tie-break (later = newer). */
  readonly seq: number;
  /** The fields `search` looks in, lower case. */
  readonly searchable: readonly string[];
}

export interface LogQuery {
  limit: number;
  providerId?: string | undefined;
  status?: DeliveryLogStatus | undefined;
  /** Lower-case substring of to_email, from_email, sent_from_email, subject or message_id. */
  search?: string | undefined;
  /** Start after this log id (decoded cursor). */
  afterId?: string | undefined;
}

export interface LogPage {
  items: StoredLog[];
  hasMore: boolean;
}

const nullableString = z.string().nullable().optional();
/** Recipient counts: 0..50 or null, as the OpenAPI file says. */
const recipients = z.number().int().min(0).max(50).nullable().optional();
/** RFC 3339, e.g. `2026-11-28T01:02:03Z` (fractions and offsets allowed). */
const timestamp = z.iso.datetime({ offset: true });

/** One log to add: the OpenAPI constraints, unknown fields refused. */
export const simDeliveryLogInputSchema = z.strictObject({
  id: z.string().min(1).optional(),
  provider_id: z.string().min(1),
  provider_name: nullableString,
  message_id: z.string().min(1),
  from_email: nullableString,
  sent_from_email: nullableString,
  to_email: nullableString,
  subject: nullableString,
  status: z.enum(['pending', 'sent', 'failed', 'rejected']).optional(),
  status_reason: nullableString,
  attempts: z.number().min(0).optional(),
  sent_at: timestamp.nullable().optional(),
  size_bytes: z.number().min(0).nullable().optional(),
  created_at: timestamp.optional(),
  recipient_count: recipients,
  accepted_recipient_count: recipients,
  rejected_recipient_count: recipients,
});

/** Body of `POST /__sim/delivery-logs`. */
export const simDeliveryLogsBodySchema = z.strictObject({
  items: z.array(simDeliveryLogInputSchema),
});

/** What an account lends a log by default. */
export interface LogAccount {
  name: string;
  from_email: string | null;
}

export type AddResult = { ok: true; items: DeliveryLogItem[] } | { ok: false; message: string };

export class DeliveryLogStore {
  private byId = new Map<string, StoredLog>();
  /** Newest first. */
  private order: StoredLog[] = [];
  private seq = 0;

  /**
   * Validates every input, fills the defaults and adds them all, or none (an invalid item, or
   * an id already held or given twice).
   */
  add(
    inputs: readonly unknown[],
    nowMs: number,
    account: (id: string) => LogAccount | undefined,
  ): AddResult {
    const parsed = z.array(simDeliveryLogInputSchema).safeParse(inputs);
    if (!parsed.success) return { ok: false, message: z.prettifyError(parsed.error) };
    const taken = new Set<string>();
    for (const [i, input] of parsed.data.entries()) {
      if (input.id === undefined) continue;
      if (this.byId.has(input.id) || taken.has(input.id))
        return { ok: false, message: `items[${i}].id: ${input.id} is already taken` };
      taken.add(input.id);
    }
    let seq = this.seq;
    const stored: StoredLog[] = [];
    for (const input of parsed.data) {
      seq++;
      let id = input.id;
      for (let n = seq; id === undefined; n++) {
        const candidate = `dlog_sim${String(n).padStart(6, '0')}`;
        if (!this.byId.has(candidate) && !taken.has(candidate)) id = candidate;
      }
      taken.add(id);
      stored.push(storeLog(withDefaults(input, id, nowMs, account(input.provider_id)), seq));
    }
    this.seq = seq;
    for (const log of stored) {
      this.byId.set(log.item.id, log);
      this.order.splice(this.insertionIndex(log), 0, log);
    }
    return { ok: true, items: stored.map((l) => structuredClone(l.item)) };
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get size(): number {
    return this.order.length;
  }

  clear(): void {
    this.byId.clear();
    this.order = [];
    this.seq = 0;
  }

  /** One page, newest first; `afterId` must be a known id (see {@link has}). */
  page(q: LogQuery): LogPage {
    const after = q.afterId === undefined ? undefined : this.byId.get(q.afterId);
    const items: StoredLog[] = [];
    for (let i = after === undefined ? 0 : this.insertionIndex(after); i < this.order.length; i++) {
      const log = this.order[i];
      if (log === undefined || log === after) continue;
      if (q.providerId !== undefined && log.item.provider_id !== q.providerId) continue;
      if (q.status !== undefined && log.item.status !== q.status) continue;
      const needle = q.search;
      if (needle !== undefined && !log.searchable.some((f) => f.includes(needle))) continue;
      if (items.length === q.limit) return { items, hasMore: true };
      items.push(log);
    }
    return { items, hasMore: false };
  }

  /** First index whose log is older than `log` (binary search over the newest-first order). */
  private insertionIndex(log: StoredLog): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.order[mid];
      if (other !== undefined && newer(other, log) >= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Adds logs with the simulator's clock and accounts (for the defaults). */
export function addDeliveryLogs(ctx: SimContext, items: readonly unknown[]): AddResult {
  return ctx.logs.add(items, ctx.now(), (id) => ctx.accounts.get(id)?.item);
}

/** > 0 when `a` is newer than `b`, 0 for the same log. */
function newer(a: StoredLog, b: StoredLog): number {
  return a.ms === b.ms ? a.seq - b.seq : a.ms - b.ms;
}

type ParsedInput = z.infer<typeof simDeliveryLogInputSchema>;

function withDefaults(
  input: ParsedInput,
  id: string,
  nowMs: number,
  account: LogAccount | undefined,
): DeliveryLogItem {
  const status = input.status ?? 'sent';
  const createdAt = input.created_at ?? rfc3339(nowMs);
  const recipientCount = input.recipient_count === undefined ? 1 : input.recipient_count;
  const delivered = status === 'sent' ? (recipientCount ?? 0) : 0;
  const refused = status === 'rejected' || status === 'failed' ? (recipientCount ?? 0) : 0;
  return {
    id,
    provider_id: input.provider_id,
    provider_name:
      input.provider_name === undefined ? (account?.name ?? null) : input.provider_name,
    message_id: input.message_id,
    from_email: input.from_email === undefined ? (account?.from_email ?? null) : input.from_email,
    sent_from_email: input.sent_from_email ?? null,
    to_email: input.to_email === undefined ? 'recipient@sim.example' : input.to_email,
    subject: input.subject === undefined ? 'Simulated message' : input.subject,
    status,
    status_reason: input.status_reason ?? null,
    attempts: input.attempts ?? 1,
    sent_at: input.sent_at === undefined ? (status === 'sent' ? createdAt : null) : input.sent_at,
    size_bytes: input.size_bytes === undefined ? 2_048 : input.size_bytes,
    created_at: createdAt,
    recipient_count: recipientCount,
    accepted_recipient_count:
      input.accepted_recipient_count === undefined
        ? recipientCount === null
          ? null
          : delivered
        : input.accepted_recipient_count,
    rejected_recipient_count:
      input.rejected_recipient_count === undefined
        ? recipientCount === null
          ? null
          : refused
        : input.rejected_recipient_count,
  };
}

function storeLog(item: DeliveryLogItem, seq: number): StoredLog {
  const searchable = [
    item.to_email,
    item.from_email,
    item.sent_from_email,
    item.subject,
    item.message_id,
  ].flatMap((f) => (f === null ? [] : [f.toLowerCase()]));
  return { item, json: JSON.stringify(item), ms: Date.parse(item.created_at), seq, searchable };
}
