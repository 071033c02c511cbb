/**
 * The error envelope: every error answer over HTTP, and every error a CLI command prints with
 * `--json`, is `{ error: { code, message } }`. The code is one of the error table's (errors.ts,
 * printed in the README), the message names the field and the rule.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

export const errorSchema = z.strictObject({
  error: z.strictObject({
    code: z
      .enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]])
      .describe('errors.ts; the README prints the table'),
    message: z.string(),
  }),
});
export type ErrorView = z.infer<typeof errorSchema>;

export function errorView(code: ErrorCode, message: string): ErrorView {
  return { error: { code, message } };
}
