/**
 * Signals: what happened to one message of an account (delivered, bounced, complained,
 * rejected), from Sendmux webhooks or the user's own pipeline. Each has an id: a retried
 * delivery of the same signal is counted once.
 */
import { z } from 'zod';
import { IntentValidationError } from '../../errors.js';
import { ACCOUNT_ID_RULE, ACCOUNT_ID_RULE_TEXT, SIGNAL_OUTCOMES } from '../../model.js';
import type { CountKind } from '../../store/breaker-state.js';

export const signalSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, { error: 'must be 1..200 visible ASCII characters' }),
  account_id: z.string().regex(ACCOUNT_ID_RULE, { error: ACCOUNT_ID_RULE_TEXT }),
  outcome: z.enum(SIGNAL_OUTCOMES, { error: `must be one of ${SIGNAL_OUTCOMES.join(', ')}` }),
  /** For `bounced`: only `Permanent` counts as a hard bounce. */
  bounce_type: z.string().max(50).optional(),
  occurred_at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
});

export type Signal = z.output<typeof signalSchema>;

/**
 * 0.1.x named the account `provider_id`; it is still read when `account_id` is absent (a signal
 * with both is refused: `provider_id` is then an unknown field).
 */
function withAccountId(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const { provider_id: old, ...rest } = input as Record<string, unknown>;
  if (old === undefined || 'account_id' in rest) return input;
  return { ...rest, account_id: old };
}

/** Validate a signal; throws an IntentValidationError naming the field and the rule. */
export function parseSignal(input: unknown): Signal {
  const parsed = signalSchema.safeParse(withAccountId(input));
  if (parsed.success) return parsed.data;
  throw new IntentValidationError(
    parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'signal'}: ${i.message}`),
  );
}

/** The counter a signal adds to. */
export function countKind(signal: Pick<Signal, 'outcome' | 'bounce_type'>): CountKind {
  switch (signal.outcome) {
    case 'delivered':
      return 'delivered';
    case 'bounced':
      return signal.bounce_type === 'Permanent' ? 'hard_bounced' : 'soft_bounced';
    case 'complained':
      return 'complained';
    case 'rejected':
      return 'rejected';
  }
}
