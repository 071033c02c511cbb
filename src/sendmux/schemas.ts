/**
 * Zod schemas for the parts of Sendmux's Management API this project uses.
 * They follow `spec/sendmux/openapi-management.json`; `test/unit/sendmux/schemas.test.ts`
 * compares their fields with the spec so the two cannot drift.
 *
 * Objects are parsed leniently (unknown fields are stripped, not rejected) so a new field
 * added by Sendmux does not stop the workers; required fields and enums are enforced.
 */
import { z } from 'zod';

export const PROVIDER_STATUSES = ['active', 'inactive', 'error', 'pending'] as const;
export const PROVIDER_TYPES = ['smtp', 'gmail_api', 'outlook_api', 'amazon_ses'] as const;
export const DELIVERY_LOG_STATUSES = ['pending', 'sent', 'failed', 'rejected'] as const;
export const API_ERROR_CODES = [
  'invalid_parameter',
  'missing_parameter',
  'authentication_required',
  'insufficient_permissions',
  'not_found',
  'conflict',
  'limit_exceeded',
  'idempotency_conflict',
  'payload_too_large',
  'validation_error',
  'rate_limit_exceeded',
  'service_unavailable',
  'internal_error',
] as const;

export const providerStatusSchema = z.enum(PROVIDER_STATUSES);
export const providerTypeSchema = z.enum(PROVIDER_TYPES);
export const deliveryLogStatusSchema = z.enum(DELIVERY_LOG_STATUSES);
export type ProviderStatus = z.infer<typeof providerStatusSchema>;
export type ProviderType = z.infer<typeof providerTypeSchema>;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];
export type DeliveryLogStatus = z.infer<typeof deliveryLogStatusSchema>;

const nullableString = z.string().nullable();
const quotaRange = z
  .object({ min: z.number().int().positive(), max: z.number().int().positive() })
  .nullable();

export const providerItemSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: providerTypeSchema,
  status: providerStatusSchema,
  status_reason: nullableString,
  is_active: z.boolean(),
  is_shared: z.boolean(),
  is_editable: z.boolean(),
  allowed_actions: z.object({
    update: z.boolean(),
    delete: z.boolean(),
    activate: z.boolean(),
    deactivate: z.boolean(),
    test: z.boolean(),
  }),
  smtp_host: nullableString,
  smtp_port: z.number().int().nullable(),
  smtp_protocol: nullableString,
  smtp_username: nullableString,
  has_smtp_password: z.boolean(),
  from_email: nullableString,
  from_name: nullableString,
  reply_to_email: nullableString,
  reply_to_name: nullableString,
  oauth_email: nullableString,
  has_refresh_token: z.boolean(),
  quotas: z.object({
    per_second: quotaRange,
    per_minute: quotaRange,
    per_hour: quotaRange,
    per_day: quotaRange,
  }),
  percentage: z.number().int().nullable(),
  tracking_domain: nullableString,
  created_at: z.string(),
  updated_at: z.string(),
  last_tested_at: nullableString,
  last_used_at: nullableString,
});
export type ProviderItem = z.infer<typeof providerItemSchema>;

/** One delivery log (`GET /emails/logs`): which account (`provider_id`) sent which message. */
export const deliveryLogItemSchema = z.object({
  id: z.string(),
  provider_id: nullableString,
  provider_name: nullableString,
  message_id: nullableString,
  from_email: nullableString,
  sent_from_email: nullableString,
  to_email: nullableString,
  subject: nullableString,
  status: deliveryLogStatusSchema,
  status_reason: nullableString,
  attempts: z.number(),
  sent_at: nullableString,
  size_bytes: z.number().nullable(),
  created_at: z.string(),
  recipient_count: z.number().int().nullable(),
  accepted_recipient_count: z.number().int().nullable(),
  rejected_recipient_count: z.number().int().nullable(),
});
export type DeliveryLogItem = z.infer<typeof deliveryLogItemSchema>;

const metaSchema = z.object({ request_id: z.string() });
const paginationSchema = z.object({ has_more: z.boolean(), next_cursor: z.string().nullish() });

export const providerItemResponseSchema = z.object({
  ok: z.literal(true),
  data: providerItemSchema,
  meta: metaSchema,
});

export const providerListResponseSchema = z.object({
  ok: z.literal(true),
  data: z.array(providerItemSchema),
  meta: metaSchema,
  pagination: paginationSchema,
});

export const deliveryLogListResponseSchema = z.object({
  ok: z.literal(true),
  data: z.array(deliveryLogItemSchema),
  meta: metaSchema,
  pagination: paginationSchema,
});

export const apiErrorSchema = z.object({
  ok: z.literal(false),
  error: z.object({
    // An unknown future code is kept as a string rather than failing the parse.
    code: z.union([z.enum(API_ERROR_CODES), z.string()]),
    message: z.string(),
    param: z.string().optional(),
    doc_url: z.string().optional(),
    retryable: z.boolean(),
    errors: z
      .array(z.object({ field: z.string(), code: z.string(), message: z.string() }))
      .optional(),
  }),
  meta: metaSchema,
});
