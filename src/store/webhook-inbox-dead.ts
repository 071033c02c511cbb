/**
 * The webhook inbox's dead letters (see webhook-inbox-trim.ts for the inbox's rule): an entry
 * delivered too often without being processed (a record its processing always fails on) is
 * moved, body and all, to the stream `webhook-dead` (capped) and acknowledged in one step, so it
 * neither retries for ever nor is trimmed away unseen.
 */
import type { RedisClient as Redis } from '../redis/connect.js';
import type { Keys } from './keys.js';
import { defineScript } from './script.js';
import type { InboxEntry } from './webhook-inbox-read.js';

/** Dead letters kept (MAXLEN ~). */
export const DEAD_LETTERS_KEPT = 1_000;

// KEYS: dead letters, inbox. ARGV: group, entry id, type, body, deliveries, error, now ms.
// Only an entry still pending is moved (another reader may have acknowledged it meanwhile).
const deadLetterScript = defineScript(`
if redis.call('XACK', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ${DEAD_LETTERS_KEPT}, '*', 'inbox_id', ARGV[2],
  'type', ARGV[3], 'body', ARGV[4], 'deliveries', ARGV[5], 'error', ARGV[6], 'at', ARGV[7])
return 1
`);

/**
 * Give up on an entry: keep it (body, deliveries, the last error) in the dead letters and
 * acknowledge it, in one step. @returns false, writing nothing, if it was no longer pending.
 */
export async function deadLetterInbox(
  redis: Redis,
  keys: Keys,
  group: string,
  entry: InboxEntry,
  error: string,
  now = Date.now(),
): Promise<boolean> {
  const moved = await deadLetterScript(
    redis,
    [keys.webhookDead, keys.webhookInbox],
    [group, entry.id, entry.type, entry.body, entry.deliveries, error, now],
  );
  return moved === 1;
}

export interface DeadLetter {
  inbox_id: string;
  type: string;
  deliveries: number;
  error: string;
  at: string;
  /** The webhook's raw JSON body, as it was signed. */
  body: string;
}

/** The latest dead letters, newest first. */
export async function readDeadLetters(redis: Redis, keys: Keys, limit = 20): Promise<DeadLetter[]> {
  const raw = (await redis.xrevrange(keys.webhookDead, '+', '-', 'COUNT', limit)) as [
    string,
    string[],
  ][];
  return raw.map(([, fields]) => {
    const f = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] ?? '', fields[i + 1] ?? '');
    const at = Number(f.get('at'));
    return {
      inbox_id: f.get('inbox_id') ?? '',
      type: f.get('type') ?? '',
      deliveries: Number(f.get('deliveries') ?? 0) || 0,
      error: f.get('error') ?? '',
      at: Number.isFinite(at) ? new Date(at).toISOString() : '',
      body: f.get('body') ?? '',
    };
  });
}
