/**
 * The routes outside /v1 as the OpenAPI document shows them (http/openapi.ts): probes, the
 * document itself, the Sendmux webhook receiver (its body and answers), metrics, the status page
 * and Bull Board.
 */
import type { z } from 'zod';
import { webhookSchema } from '../producers/breaker/webhook-events.js';

/** Routes outside /v1: `public` ones need no token. */
export const OTHER_ROUTES: readonly {
  method: 'GET' | 'POST';
  path: string;
  summary: string;
  public: boolean;
  /** The JSON body it takes. */
  body?: z.ZodType;
  /** Its answers (default: 200 OK). */
  answers?: Readonly<Record<string, string>>;
}[] = [
  { method: 'GET', path: '/healthz', summary: 'The process is up.', public: true },
  {
    method: 'GET',
    path: '/readyz',
    summary:
      'Redis answers and the actions queue is not stuck (503 naming the failed check); `?checks=redis` leaves the queue out.',
    public: true,
  },
  { method: 'GET', path: '/openapi.json', summary: 'This document.', public: true },
  {
    method: 'POST',
    path: '/webhooks/sendmux',
    summary:
      'Sendmux webhook receiver (signed with X-Sendmux-Signature, not the token): one Sendmux webhook event; `message.delivered`, `message.bounced`, `message.complained` and `message.rejected` count for the breaker, other types are acknowledged and ignored.',
    public: true,
    body: webhookSchema,
    answers: {
      202: '`{ accepted: true }`: stored in the inbox, the breaker counts it.',
      200: '`{ accepted: false, duplicate | ignored | expired: true }`: seen before, not a signal type, or older than the dedupe window.',
      400: '`invalid_input`: not a webhook event (the field and the rule named).',
      401: '`invalid_signature`: X-Sendmux-Signature missing or wrong.',
      503: '`redis_unavailable` or `inbox_full`, with Retry-After: Sendmux retries.',
    },
  },
  { method: 'GET', path: '/metrics', summary: 'Prometheus metrics (text format).', public: false },
  { method: 'GET', path: '/', summary: 'The status page (HTML).', public: false },
  { method: 'GET', path: '/status.js', summary: "The status page's script.", public: false },
  { method: 'GET', path: '/status.css', summary: "The status page's style.", public: false },
  {
    method: 'GET',
    path: '/admin/queues',
    summary: 'Bull Board, the queues dashboard (HTML).',
    public: false,
  },
];
