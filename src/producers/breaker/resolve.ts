/**
 * Which account sent a message? Sendmux's webhook payload does not say, so the breaker asks a
 * chain, first answer wins:
 * 1. the user's mapping (BREAKER_SENDER_MAP): sender address, then its domain -> account id;
 * 2. the accounts' `from_email`, from the API's listing, kept in memory and refreshed in the
 *    background (never read per event); an address two accounts share answers nothing;
 * 3. the delivery log of the message (`GET /emails/logs?search=<message id>`), remembered per
 *    message id (misses too, for a shorter time) in a bounded cache.
 * What none of them knows is unresolved: the caller counts it; it never fails anything.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { PROVIDER_ID_RULE, PROVIDER_ID_RULE_TEXT } from '../../model.js';

export type ResolvedVia = 'mapping' | 'from_email' | 'delivery_log';

export interface Resolution {
  providerId: string;
  via: ResolvedVia;
}

/** What of a message the chain looks at. */
export interface MessageRef {
  sender?: string | null | undefined;
  messageId?: string | null | undefined;
}

export interface ResolverDeps {
  /** BREAKER_SENDER_MAP, already parsed ({@link parseSenderMap}). */
  senderMap: ReadonlyMap<string, string>;
  /** The team's accounts (the API's listing); undefined without an API key. */
  listAccounts?: () => AsyncIterable<{ id: string; from_email: string | null }>;
  /** Delivery logs matching a message id; undefined without an API key. */
  searchLogs?: (
    messageId: string,
  ) => Promise<readonly { provider_id: string | null; message_id: string | null }[]>;
  /** How often the accounts' addresses are read again. @defaultValue 300_000 */
  refreshMs?: number;
  /** Message ids remembered. @defaultValue 10_000 */
  cacheSize?: number;
  /** How long a message id the logs did not know is remembered as unknown. @defaultValue 60_000 */
  missTtlMs?: number;
  log?: Logger;
  now?: () => number;
}

export interface Resolver {
  resolve(ref: MessageRef): Promise<Resolution | undefined>;
  /** Read the accounts' addresses now (also done by `start` and every `refreshMs`). */
  refresh(): Promise<void>;
  /** Load the addresses, then keep them fresh in the background. */
  start(): Promise<void>;
  close(): void;
}

const senderMapSchema = z.record(z.string().min(1), z.string());

/**
 * BREAKER_SENDER_MAP: JSON `{ "news@example.com": "dprov_...", "example.org": "dprov_..." }`
 * (an address, or a domain for every address in it). Throws a ConfigError naming the entry.
 */
export function parseSenderMap(json: string): Map<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ConfigError(['BREAKER_SENDER_MAP: must be a JSON object']);
  }
  const parsed = senderMapSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(['BREAKER_SENDER_MAP: must map addresses or domains to account ids']);
  }
  const map = new Map<string, string>();
  for (const [sender, id] of Object.entries(parsed.data)) {
    if (!PROVIDER_ID_RULE.test(id)) {
      throw new ConfigError([`BREAKER_SENDER_MAP: "${sender}": "${id}" ${PROVIDER_ID_RULE_TEXT}`]);
    }
    map.set(sender.trim().toLowerCase(), id);
  }
  return map;
}

/** `Name <a@b.c>` or `a@b.c` -> `a@b.c`, lower case; undefined when there is no address. */
export function senderAddress(sender: string | null | undefined): string | undefined {
  if (!sender) return undefined;
  const angle = /<([^>]+)>/.exec(sender);
  const address = (angle?.[1] ?? sender).trim().toLowerCase();
  return address.includes('@') ? address : undefined;
}

export function createResolver(deps: ResolverDeps): Resolver {
  const now = deps.now ?? Date.now;
  const cacheSize = deps.cacheSize ?? 10_000;
  const missTtlMs = deps.missTtlMs ?? 60_000;
  let fromEmail = new Map<string, string>();
  /** message id -> account id, or a miss with its time; insertion order = age (LRU). */
  const logs = new Map<string, { providerId: string } | { missAt: number }>();
  let timer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> | undefined;

  function remember(messageId: string, value: { providerId: string } | { missAt: number }) {
    logs.delete(messageId);
    logs.set(messageId, value);
    if (logs.size > cacheSize) {
      const oldest = logs.keys().next().value;
      if (oldest !== undefined) logs.delete(oldest);
    }
  }

  async function fromLogs(messageId: string): Promise<string | undefined> {
    const cached = logs.get(messageId);
    if (cached && 'providerId' in cached) {
      remember(messageId, cached);
      return cached.providerId;
    }
    if (cached && now() - cached.missAt < missTtlMs) return undefined;
    if (!deps.searchLogs) return undefined;
    try {
      const items = await deps.searchLogs(messageId);
      const hit = items.find((i) => i.message_id === messageId && i.provider_id);
      if (hit?.provider_id) {
        remember(messageId, { providerId: hit.provider_id });
        return hit.provider_id;
      }
      remember(messageId, { missAt: now() });
    } catch (err) {
      // The API being down leaves the event unresolved (counted), not failed.
      deps.log?.warn({ err: String(err) }, 'delivery log lookup failed');
    }
    return undefined;
  }

  async function refresh(): Promise<void> {
    const list = deps.listAccounts;
    if (!list) return;
    refreshing ??= (async () => {
      const next = new Map<string, string>();
      const shared = new Set<string>();
      for await (const account of list()) {
        const address = senderAddress(account.from_email);
        if (!address) continue;
        if (next.has(address) && next.get(address) !== account.id) shared.add(address);
        next.set(address, account.id);
      }
      for (const address of shared) next.delete(address);
      fromEmail = next;
    })().finally(() => {
      refreshing = undefined;
    });
    await refreshing;
  }

  return {
    async resolve(ref) {
      const address = senderAddress(ref.sender);
      if (address) {
        const mapped =
          deps.senderMap.get(address) ?? deps.senderMap.get(address.split('@')[1] ?? '');
        if (mapped) return { providerId: mapped, via: 'mapping' };
        const known = fromEmail.get(address);
        if (known) return { providerId: known, via: 'from_email' };
      }
      if (ref.messageId) {
        const logged = await fromLogs(ref.messageId);
        if (logged) return { providerId: logged, via: 'delivery_log' };
      }
      return undefined;
    },
    refresh,
    async start() {
      await refresh().catch((err: unknown) => {
        deps.log?.warn({ err: String(err) }, 'reading the accounts for the breaker failed');
      });
      timer = setInterval(() => {
        refresh().catch((err: unknown) => {
          deps.log?.warn({ err: String(err) }, 'refreshing the accounts for the breaker failed');
        });
      }, deps.refreshMs ?? 300_000);
      timer.unref();
    },
    close() {
      if (timer) clearInterval(timer);
    },
  };
}
