/**
 * Glossary
 * - action: `deactivate` or `activate` one sending account (`dprov_...`).
 * - intent: what a producer asks for: action, provider id, idempotency key, source (+ ref), reason.
 * - idempotency key: 1..255 characters; the same key always means the same intent. A key reused
 *   for a different intent is refused at enqueue time, like the API's 409.
 */
import { z } from 'zod';

export const ACTIONS = ['deactivate', 'activate'] as const;
export const SOURCES = ['manual', 'bulk', 'breaker', 'maintenance'] as const;
export type Action = (typeof ACTIONS)[number];
export type Source = (typeof SOURCES)[number];

export const PROVIDER_ID_RULE = /^dprov_[A-Za-z0-9_-]{1,128}$/;
/** Header-safe: visible ASCII only (no spaces, no control characters). */
export const IDEMPOTENCY_KEY_RULE = /^[\x21-\x7e]{1,255}$/;

export const intentSchema = z.object({
  action: z.enum(ACTIONS, { error: 'must be "deactivate" or "activate"' }),
  providerId: z.string().regex(PROVIDER_ID_RULE, {
    error: 'must be a sending account id: "dprov_" then 1..128 letters, digits, "_" or "-"',
  }),
  idempotencyKey: z.string().regex(IDEMPOTENCY_KEY_RULE, {
    error: 'must be 1..255 visible ASCII characters (no spaces)',
  }),
  source: z.enum(SOURCES, { error: `must be one of ${SOURCES.join(', ')}` }),
  /** What inside the source asked for it (bulk run id, breaker rule, window id). */
  sourceRef: z.string().max(200, { error: 'must be at most 200 characters' }).optional(),
  reason: z.string().max(500, { error: 'must be at most 500 characters' }).default(''),
});

/** A validated intent. */
export type Intent = z.output<typeof intentSchema>;
/** What a producer passes in; `reason` may be left out. */
export type IntentInput = z.input<typeof intentSchema>;

/** Field names as users see them (CLI flags / JSON fields). */
const FIELD_NAMES: Record<string, string> = {
  action: 'action',
  providerId: 'provider_id',
  idempotencyKey: 'idempotency_key',
  source: 'source',
  sourceRef: 'source_ref',
  reason: 'reason',
};

/** One or more intents broke a rule; nothing was enqueued. */
export class IntentValidationError extends Error {
  override readonly name = 'IntentValidationError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid intent: ${problems.join('; ')}`);
  }
}

/** The same idempotency key is already bound to another intent; nothing was enqueued. */
export class IdempotencyKeyConflictError extends Error {
  override readonly name = 'IdempotencyKeyConflictError';
  constructor(
    readonly idempotencyKey: string,
    readonly existing: string,
    readonly requested: string,
  ) {
    super(
      `idempotency key "${idempotencyKey}" is already used for another intent (${existing}); refused ${requested}`,
    );
  }
}

/** Validate intents; throws {@link IntentValidationError} naming the item, field and rule. */
export function parseIntents(inputs: readonly IntentInput[]): Intent[] {
  const problems: string[] = [];
  const out: Intent[] = [];
  inputs.forEach((input, index) => {
    const parsed = intentSchema.safeParse(input);
    if (parsed.success) {
      out.push(parsed.data);
      return;
    }
    const where = inputs.length > 1 ? `item ${index}: ` : '';
    for (const issue of parsed.error.issues) {
      const field = issue.path.map((p) => FIELD_NAMES[String(p)] ?? String(p)).join('.');
      problems.push(`${where}${field || 'intent'} ${issue.message}`);
    }
  });
  if (problems.length > 0) throw new IntentValidationError(problems);
  return out;
}

/**
 * What makes two intents "the same" for an idempotency key: the call it makes (action, account)
 * and who asked (source). The reason is free text and may be reworded on a retry.
 */
export function fingerprint(intent: Pick<Intent, 'action' | 'providerId' | 'source'>): string {
  return `${intent.action} ${intent.providerId} by ${intent.source}`;
}
