/**
 * Accepting a webhook event into the inbox (see webhook-inbox-trim.ts for the inbox's rule,
 * "accepted means kept until processed"): one Lua step that drops a duplicate, checks the caps
 * (unprocessed entries, entries, bytes), trims processed entries to make room, and stores the
 * entry with its seen mark, or refuses it (stores nothing) when the inbox is full.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';
import { INBOX_GROUP, TRIM_LUA, type InboxCaps } from './webhook-inbox-trim.js';

/**
 * KEYS: seen mark, inbox, stored bytes. ARGV: ttl s, group, max len, backlog max, max bytes,
 * type, body. Returns {'stored', id} | {'duplicate'} | {'full', cap, backlog, entries, bytes}.
 */
const appendScript = defineScript(`${TRIM_LUA}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'duplicate'} end
local inbox, bytes_key, group = KEYS[2], KEYS[3], ARGV[2]
local max_len, backlog_max, max_bytes = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local size = #ARGV[6] + #ARGV[7]
local function store()
  local id = redis.call('XADD', inbox, '*', 'type', ARGV[6], 'body', ARGV[7])
  redis.call('INCRBY', bytes_key, size)
  redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
  return {'stored', id}
end
-- Fast path: no unprocessed entry is ever trimmed, so there are at most XLEN of them; with
-- room below every cap, the group need not be read.
local len = redis.call('XLEN', inbox)
local bytes = tonumber(redis.call('GET', bytes_key) or '0') or 0
if len == 0 then
  -- the group from the first entry on (BUSYGROUP when it exists: fine)
  redis.pcall('XGROUP', 'CREATE', inbox, group, '0', 'MKSTREAM')
  -- an empty inbox holds no bytes, whatever a counter left by a deleted stream says
  if bytes ~= 0 then
    redis.call('DEL', bytes_key)
    bytes = 0
  end
end
if len < backlog_max and len < max_len and bytes + size <= max_bytes then return store() end
local backlog, processed
len, bytes, backlog, processed = inbox_state(inbox, bytes_key, group, false)
-- No group yet: every entry is unprocessed (backlog = len), and the group starts at the first.
if processed == nil then redis.call('XGROUP', 'CREATE', inbox, group, '0', 'MKSTREAM') end
-- Room for this one, and for up to 1 in 1,000 of max_len more (at most 100) without trimming.
local slack = math.min(100, math.floor(max_len / 1000))
len, bytes = trim(inbox, bytes_key, processed, len, bytes, max_len - 1 - slack, max_bytes - size)
local cap = nil
if backlog >= backlog_max then cap = 'backlog'
elseif bytes + size > max_bytes then cap = 'bytes'
elseif len >= max_len then cap = 'entries' end
if cap then return {'full', cap, backlog, len, bytes} end
return store()
`);

export interface AppendOptions extends InboxCaps {
  /** How long the event id is remembered (s). */
  dedupeTtlS: number;
  /** Most unprocessed entries (pending + never delivered). @defaultValue maxLen */
  backlogMax?: number;
  /** The group whose progress says what is processed. @defaultValue {@link INBOX_GROUP} */
  group?: string;
}

/** What an append did. */
export type AppendResult =
  | { stored: true; id: string }
  /** The event id was seen within the dedupe window: nothing stored. */
  | { stored: false; duplicate: true }
  /**
   * The inbox is full (nothing stored, the id not marked seen): `cap` says which cap, the rest
   * what the inbox held (`backlog`: unprocessed entries).
   */
  | {
      stored: false;
      duplicate: false;
      cap: 'backlog' | 'bytes' | 'entries';
      backlog: number;
      entries: number;
      bytes: number;
    };

/**
 * Store one event unless its id was seen within the dedupe window or the inbox is full (see
 * the module's comment), in one step.
 */
export async function appendToInbox(
  redis: Redis,
  keys: Keys,
  event: { id: string; type: string; body: Buffer | string },
  options: AppendOptions,
): Promise<AppendResult> {
  const reply = (await appendScript(
    redis,
    [keys.webhookSeen(event.id), keys.webhookInbox, keys.webhookInboxBytes],
    // ioredis sends a Buffer as is: the stored body is byte for byte the signed one.
    [
      options.dedupeTtlS,
      options.group ?? INBOX_GROUP,
      options.maxLen,
      options.backlogMax ?? options.maxLen,
      options.maxBytes,
      event.type,
      event.body,
    ],
  )) as [string, ...(string | number)[]];
  if (reply[0] === 'stored') return { stored: true, id: String(reply[1]) };
  if (reply[0] === 'duplicate') return { stored: false, duplicate: true };
  return {
    stored: false,
    duplicate: false,
    cap: reply[1] as 'backlog' | 'bytes' | 'entries',
    backlog: Number(reply[2]),
    entries: Number(reply[3]),
    bytes: Number(reply[4]),
  };
}
