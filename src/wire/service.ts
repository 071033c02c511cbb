/** The service's own small answers: `/healthz`, `/v1/whoami`, `/readyz`, the webhook receiver. */
import { z } from 'zod';
import { TOKEN_KINDS } from '../config/admin-tokens.js';
import type { Readiness } from '../metrics/readiness.js';

/** `GET /healthz`. */
export const okSchema = z.strictObject({ ok: z.literal(true) });

/** `GET /v1/whoami`: the token's name (the actor of what it does) and kind (`read`: GET only). */
export const whoamiSchema = z.strictObject({
  ok: z.literal(true),
  name: z.string(),
  kind: z.enum(TOKEN_KINDS),
});
export type WhoamiView = z.infer<typeof whoamiSchema>;

/** `POST /webhooks/sendmux`: stored (202), or why not (200). */
export const webhookAnswerSchema = z.union([
  z.strictObject({ accepted: z.literal(true) }),
  z.strictObject({ accepted: z.literal(false), duplicate: z.literal(true) }),
  z.strictObject({ accepted: z.literal(false), ignored: z.literal(true) }),
  z.strictObject({ accepted: z.literal(false), expired: z.literal(true) }),
]);
export type WebhookAnswer = z.infer<typeof webhookAnswerSchema>;

/** `GET /readyz` (200 ready, 503 naming the failed checks). */
export const readinessSchema = z.strictObject({
  ready: z.boolean(),
  failed: z.array(z.string()),
  checks: z.strictObject({
    redis: z.strictObject({
      ok: z.boolean(),
      ms: z.number().optional(),
      error: z.string().optional(),
    }),
    queue: z.strictObject({
      ok: z.boolean(),
      error: z.string().optional(),
      paused: z.boolean().optional(),
      working: z.number().optional(),
      ready_for_ms: z.number().nullable().optional(),
      idle_for_ms: z.number().nullable().optional(),
    }),
  }),
});

/** Readiness as `GET /readyz` answers it. */
export function readinessView(r: Readiness): z.infer<typeof readinessSchema> {
  return {
    ready: r.ready,
    failed: r.failed,
    checks: { redis: { ...r.checks.redis }, queue: { ...r.checks.queue } },
  };
}
