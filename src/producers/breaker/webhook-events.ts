/**
 * Sendmux webhook events as breaker signals. Only four types count: `message.delivered`,
 * `message.bounced` (a hard bounce when `data.bounce_type` is `Permanent`),
 * `message.complained` and `message.rejected`; the others are not signals. The payload does
 * not name the sending account: `data.sender` and `data.message_id` go to the resolver.
 */
import { z } from 'zod';
import type { SignalOutcome } from '../../model.js';
import type { MessageRef } from './resolve.js';
import type { Signal } from './signals.js';

/** Webhook event types that are signals, and what each counts as. */
export const SIGNAL_OF_TYPE: Readonly<Record<string, SignalOutcome>> = {
  'message.delivered': 'delivered',
  'message.bounced': 'bounced',
  'message.complained': 'complained',
  'message.rejected': 'rejected',
};

export function isSignalType(type: string): boolean {
  return Object.hasOwn(SIGNAL_OF_TYPE, type);
}

const optionalText = z.string().nullish();
/** Read leniently: fields Sendmux adds later are ignored, missing optional ones are null. */
export const webhookSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  occurred_at: z.string().min(1),
  data: z
    .object({
      message_id: optionalText,
      sendmux_message_id: optionalText,
      sender: optionalText,
      bounce_type: optionalText,
    })
    .loose(),
});

export type WebhookEvent = z.output<typeof webhookSchema>;

export type ParsedWebhook =
  | { ok: true; event: WebhookEvent; outcome: SignalOutcome | undefined; ref: MessageRef }
  | { ok: false; problem: string };

/** Parse a stored webhook body; says what is wrong rather than throwing. */
export function parseWebhook(body: string): ParsedWebhook {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = webhookSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      problem: `${first?.path.map(String).join('.') ?? ''}: ${first?.message ?? 'invalid'}`,
    };
  }
  const event = parsed.data;
  return {
    ok: true,
    event,
    outcome: SIGNAL_OF_TYPE[event.type],
    ref: { sender: event.data.sender, messageId: event.data.message_id },
  };
}

/** The signal of a webhook event whose account is known. */
export function signalOf(event: WebhookEvent, outcome: SignalOutcome, accountId: string): Signal {
  return {
    id: event.id,
    account_id: accountId,
    outcome,
    occurred_at: event.occurred_at,
    ...(event.data.bounce_type ? { bounce_type: event.data.bounce_type } : {}),
  };
}
