/**
 * Which account sent a message? Sendmux's webhook payload does not say, so the breaker works it
 * out, and when it cannot be sure it names nobody: switching off the wrong account is the worst
 * this service can do. The sender (`data.sender`) is parsed as one RFC 5322 mailbox by
 * `email-addresses` (a display name may hold `<...>` of its own: `"Help <a@x>" <b@x>` is b@x);
 * anything else (unparsable, a group, several mailboxes) has no address. Then, first answer wins:
 * 1. the address in the user's mapping (BREAKER_SENDER_MAP);
 * 2. the address as the `from_email` of exactly one account (the API's listing, kept in memory
 *    and refreshed in the background, never read per event);
 * 3. when the address is several accounts' `from_email` (Sendmux routes one sender through
 *    several accounts by percentage) or no account's, and the message has an id: its delivery
 *    log (`GET /emails/logs?search=<message id>`), which names the account that sent it;
 *    remembered per message id (misses too, for a shorter time) in a bounded cache;
 * 4. the address's domain in the mapping, only for an address no account has as `from_email`
 *    (an exact match, shared or not, is never overruled by a domain entry).
 * Several accounts still possible (a shared `from_email` the log does not settle, or a log
 * naming several) is `ambiguous`, with the candidates; nothing found is `unresolved`. The caller
 * counts both; neither fails anything.
 */
import emailAddresses from 'email-addresses';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { ACCOUNT_ID_RULE, ACCOUNT_ID_RULE_TEXT } from '../../model.js';

export type ResolvedVia = 'mapping' | 'from_email' | 'delivery_log' | 'domain_mapping';

/** The one account that sent the message, and which rule said so. */
export interface Resolved {
  result: 'resolved';
  accountId: string;
  via: ResolvedVia;
}

/** Several accounts may have sent it: counted for none of them. */
export interface Ambiguous {
  result: 'ambiguous';
  /** The accounts it could be, sorted. */
  candidates: string[];
  /** What named them: a shared `from_email`, or a delivery log naming several accounts. */
  via: 'from_email' | 'delivery_log';
}

export interface Unresolved {
  result: 'unresolved';
}

export type Resolution = Resolved | Ambiguous | Unresolved;

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
  /** Which account sent the message: one, several possible (ambiguous), or none found. */
  resolve(ref: MessageRef): Promise<Resolution>;
  /** Read the accounts' addresses now (also done by `start` and every `refreshMs`). */
  refresh(): Promise<void>;
  /** Load the addresses, then keep them fresh in the background. */
  start(): Promise<void>;
  close(): void;
}

const senderMapSchema = z.record(z.string().min(1), z.string());

/** One mailbox's address and domain, lower case. */
interface Mailbox {
  address: string;
  domain: string;
}

/**
 * `text` as exactly one RFC 5322 mailbox (`a@b.c`, `Name <a@b.c>`, `"Help <x@y.z>" <a@b.c>`;
 * UTF-8 allowed, RFC 6532), else undefined: unparsable, a group, or several mailboxes.
 */
function parseMailbox(text: string | null | undefined): Mailbox | undefined {
  if (!text) return undefined;
  const parsed = emailAddresses.parseOneAddress({ input: text, rfc6532: true });
  if (parsed?.type !== 'mailbox') return undefined;
  return { address: parsed.address.toLowerCase(), domain: parsed.domain.toLowerCase() };
}

/**
 * BREAKER_SENDER_MAP: JSON `{ "news@example.com": "dprov_...", "example.org": "dprov_..." }`
 * (an address, or a domain for every address in it no account has as its `from_email`). An
 * address is read as the senders are, so it matches them. Throws a ConfigError naming the entry.
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
    if (!ACCOUNT_ID_RULE.test(id)) {
      throw new ConfigError([`BREAKER_SENDER_MAP: "${sender}": "${id}" ${ACCOUNT_ID_RULE_TEXT}`]);
    }
    let key = sender.trim().toLowerCase();
    if (key.includes('@')) {
      const mailbox = parseMailbox(sender);
      if (!mailbox) {
        throw new ConfigError([
          `BREAKER_SENDER_MAP: "${sender}" is neither one email address nor a domain`,
        ]);
      }
      key = mailbox.address;
    }
    map.set(key, id);
  }
  return map;
}

/** The address of one RFC 5322 mailbox, lower case; undefined when there is not exactly one. */
export function senderAddress(sender: string | null | undefined): string | undefined {
  return parseMailbox(sender)?.address;
}

/** What the delivery log said about a message: the accounts it names, or nothing (when). */
type LogEntry = { accountIds: string[] } | { missAt: number };

const sorted = (ids: Iterable<string>) => [...new Set(ids)].sort();

export function createResolver(deps: ResolverDeps): Resolver {
  const now = deps.now ?? Date.now;
  const cacheSize = deps.cacheSize ?? 10_000;
  const missTtlMs = deps.missTtlMs ?? 60_000;
  /** address -> the accounts whose from_email it is (sorted; more than one: shared). */
  let fromEmail = new Map<string, string[]>();
  /** message id -> what its log said; insertion order = age (LRU). */
  const logs = new Map<string, LogEntry>();
  let timer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> | undefined;

  function remember(messageId: string, value: LogEntry) {
    logs.delete(messageId);
    logs.set(messageId, value);
    if (logs.size > cacheSize) {
      const oldest = logs.keys().next().value;
      if (oldest !== undefined) logs.delete(oldest);
    }
  }

  /** The accounts the message's delivery log names (none when it is silent or unreachable). */
  async function fromLogs(messageId: string): Promise<string[]> {
    const cached = logs.get(messageId);
    if (cached && 'accountIds' in cached) {
      remember(messageId, cached);
      return cached.accountIds;
    }
    if (cached && now() - cached.missAt < missTtlMs) return [];
    if (!deps.searchLogs) return [];
    try {
      const items = await deps.searchLogs(messageId);
      // The search matches substrings: only this very message counts.
      const accountIds = sorted(
        items.flatMap((i) => (i.message_id === messageId && i.provider_id ? [i.provider_id] : [])),
      );
      remember(messageId, accountIds.length > 0 ? { accountIds } : { missAt: now() });
      return accountIds;
    } catch (err) {
      // The API being down leaves the event unsettled (counted), not failed; not remembered.
      deps.log?.warn({ err: String(err) }, 'delivery log lookup failed');
      return [];
    }
  }

  async function refresh(): Promise<void> {
    const list = deps.listAccounts;
    if (!list) return;
    refreshing ??= (async () => {
      const next = new Map<string, Set<string>>();
      for await (const account of list()) {
        const address = senderAddress(account.from_email);
        if (!address) continue;
        const owners = next.get(address) ?? new Set<string>();
        owners.add(account.id);
        next.set(address, owners);
      }
      fromEmail = new Map([...next].map(([address, owners]) => [address, sorted(owners)]));
    })().finally(() => {
      refreshing = undefined;
    });
    await refreshing;
  }

  const resolved = (accountId: string, via: ResolvedVia): Resolved => ({
    result: 'resolved',
    accountId,
    via,
  });

  return {
    async resolve(ref) {
      const mailbox = parseMailbox(ref.sender);
      // 1. The user's own word for this address.
      const mapped = mailbox && deps.senderMap.get(mailbox.address);
      if (mapped) return resolved(mapped, 'mapping');
      // 2. The from_email of exactly one account.
      const owners = mailbox && fromEmail.get(mailbox.address);
      const [owner, ...others] = owners ?? [];
      if (owner !== undefined && others.length === 0) return resolved(owner, 'from_email');
      // 3. Shared or unknown: the delivery log names the account that sent the message.
      const logged = ref.messageId ? await fromLogs(ref.messageId) : [];
      const [sender, ...alsoLogged] = logged;
      if (sender !== undefined && alsoLogged.length === 0) return resolved(sender, 'delivery_log');
      if (sender !== undefined)
        return { result: 'ambiguous', candidates: logged, via: 'delivery_log' };
      if (owners) return { result: 'ambiguous', candidates: owners, via: 'from_email' };
      // 4. A domain entry, only for an address no account has as its from_email.
      const byDomain = mailbox && deps.senderMap.get(mailbox.domain);
      if (byDomain) return resolved(byDomain, 'domain_mapping');
      return { result: 'unresolved' };
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
