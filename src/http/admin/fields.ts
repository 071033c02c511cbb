/**
 * The zod fields the admin routes share (src/http/admin/*): account and batch ids, the action,
 * limits, query flags and strict JSON objects, each with the message a 400 names.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { ACTIONS, ACCOUNT_ID_RULE, ACCOUNT_ID_RULE_TEXT } from '../../model.js';
import type { RedisClient as Redis } from '../../redis/connect.js';
import { BATCH_ID_RULE, BATCH_ID_RULE_TEXT } from '../../store/batch-record.js';
import type { Keys } from '../../store/keys.js';

/** What each group of admin routes is registered with (admin-routes.ts builds it once). */
export interface AdminContext {
  config: Config;
  redis: Redis;
  keys: Keys;
}

/** Registers a group's routes on the admin plugin's instance. */
export type RegisterRoutes = (app: FastifyInstance, ctx: AdminContext) => void;

export const text = (max: number) =>
  z.string({ error: 'must be a string' }).max(max, { error: `must be at most ${max} characters` });
export const account = z
  .string({ error: 'must be a string' })
  .regex(ACCOUNT_ID_RULE, { error: ACCOUNT_ID_RULE_TEXT });
export const batchId = z
  .string({ error: 'must be a string' })
  .regex(BATCH_ID_RULE, { error: BATCH_ID_RULE_TEXT });
export const action = z.enum(ACTIONS, { error: `must be one of ${ACTIONS.join(', ')}` });
export const limit = (max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be >= 1' })
    .max(max, { error: `must be <= ${max}` });
/** A query flag: `true`/`false` (or `1`/`0`). */
export const flag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');
export const strict = <T extends z.core.$ZodLooseShape>(shape: T) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? 'must be a JSON object'
        : `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
  });

export const accountParams = z.object({ account });
export const batchParams = z.object({ id: batchId });
