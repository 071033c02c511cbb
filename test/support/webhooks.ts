/** A Sendmux webhook delivery as the HTTP server's `inject` takes it: signed, with its event id. */
import { webhookSignature } from '../../src/sendmux/webhook-signature.js';

export function signedWebhookRequest(secret: string, id: string, body: string) {
  return {
    method: 'POST' as const,
    url: '/webhooks/sendmux',
    headers: {
      'content-type': 'application/json',
      'x-sendmux-signature': webhookSignature(secret, body),
      'x-sendmux-event-id': id,
    },
    payload: body,
  };
}
