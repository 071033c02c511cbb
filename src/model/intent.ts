/**
 * Intents: actions and sources (and the older versions' source word), the account id and
 * idempotency key rules, the intent's schema and its validation, and the fingerprint that makes
 * two intents the same. The glossary of docs/architecture.md says what each word means.
 */
import { z } from 'zod';
import { IntentValidationError } from '../errors.js';
import { actorSchema } from './actor.js';

export const ACTIONS = ['deactivate', 'activate'] as const;
export const SOURCES = ['manual', 'bulk', 'breaker', 'window'] as const;
export type Action = (typeof ACTIONS)[number];
export type Source = (typeof SOURCES)[number];

/**
 * Versions 0.1.x named the source `window` `maintenance`. What they stored (bindings and
 * their fingerprints, holds, events, statuses, queued jobs) is read as `window`: every reader
 * goes through {@link normalizeSource}, and a stored fingerprint through
 * {@link sameFingerprint}, so a window's key bound by an older version is no conflict.
 */
export const LEGACY_SOURCES: Readonly<Record<string, Source>> = { maintenance: 'window' };

/** A source as stored by this or an older version, in today's words. */
export function normalizeSource<S extends string | null | undefined>(source: S): S | Source {
  return (typeof source === 'string' && LEGACY_SOURCES[source]) || source;
}

export const ACCOUNT_ID_RULE = /^dprov_[A-Za-z0-9_-]{1,128}$/;
/** The longest id {@link ACCOUNT_ID_RULE} allows. */
export const ACCOUNT_ID_MAX_LENGTH = 'dprov_'.length + 128;
export const ACCOUNT_ID_RULE_TEXT =
  'must be a sending account id: "dprov_" then 1..128 letters, digits, "_" or "-"';
/** Header-safe: visible ASCII only (no spaces, no control characters). */
export const IDEMPOTENCY_KEY_RULE = /^[\x21-\x7e]{1,255}$/;

export const intentSchema = z.object({
  action: z.enum(ACTIONS, { error: 'must be "deactivate" or "activate"' }),
  accountId: z.string().regex(ACCOUNT_ID_RULE, { error: ACCOUNT_ID_RULE_TEXT }),
  idempotencyKey: z.string().regex(IDEMPOTENCY_KEY_RULE, {
    error: 'must be 1..255 visible ASCII characters (no spaces)',
  }),
  source: z.enum(SOURCES, { error: `must be one of ${SOURCES.join(', ')}` }),
  /** What inside the source asked for it (bulk run id, breaker trip, window id). */
  sourceRef: z.string().max(200, { error: 'must be at most 200 characters' }).optional(),
  reason: z.string().max(500, { error: 'must be at most 500 characters' }).default(''),
  /**
   * Who asked (model/actor.ts): the CLI user, the admin token's name, `breaker`,
   * `window:<id>`. Not part of the fingerprint: the same intent asked again by someone else is
   * the same intent. Absent in jobs an older version queued (read as null).
   */
  actor: actorSchema.optional(),
});

/** A validated intent. */
export type Intent = z.output<typeof intentSchema>;
/** What a producer passes in; `reason` may be left out. */
export type IntentInput = z.input<typeof intentSchema>;

/** Field names as users see them (CLI flags / JSON fields). */
const FIELD_NAMES: Record<string, string> = {
  action: 'action',
  accountId: 'account_id',
  idempotencyKey: 'idempotency_key',
  source: 'source',
  sourceRef: 'source_ref',
  reason: 'reason',
  actor: 'actor',
};

function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Validate intents; throws {@link IntentValidationError} naming the item (from 1), the field,
 * the bad value and the rule.
 */
export function parseIntents(inputs: readonly IntentInput[]): Intent[] {
  const problems: string[] = [];
  const out: Intent[] = [];
  inputs.forEach((input, index) => {
    const parsed = intentSchema.safeParse(input);
    if (parsed.success) {
      out.push(parsed.data);
      return;
    }
    const where = inputs.length > 1 ? `item ${index + 1}: ` : '';
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String);
      const field = path.map((p) => FIELD_NAMES[p] ?? p).join('.');
      const value: unknown =
        path.length === 1 ? (input as Record<string, unknown>)[path[0] ?? ''] : undefined;
      const got = value === undefined ? '' : ` (got "${shown(value)}")`;
      problems.push(`${where}${field || 'intent'} ${issue.message}${got}`);
    }
  });
  if (problems.length > 0) throw new IntentValidationError(problems);
  return out;
}

/**
 * What makes two intents "the same" for an idempotency key: the call it makes (action, account)
 * and who asked (source). The reason is free text and may be reworded on a retry.
 */
export function fingerprint(intent: Pick<Intent, 'action' | 'accountId' | 'source'>): string {
  const [head, tail] = fingerprintParts(intent.action, intent.source);
  return `${head}${intent.accountId}${tail}`;
}

/**
 * Whether a stored fingerprint is `wanted`: equal, or equal once an older version's source word
 * is read as today's (`... by maintenance` is `... by window`). Lua does the same in
 * store/claim-keys.ts and store/known-state.ts (`sdxSameFp`).
 */
export function sameFingerprint(stored: string, wanted: string): boolean {
  return stored === wanted || stored.replace(/ by maintenance$/, ' by window') === wanted;
}

/** The fingerprint around the account id, for scripts that bind keys themselves. */
export function fingerprintParts(action: Action, source: Source): [string, string] {
  return [`${action} `, ` by ${source}`];
}
