/**
 * The error envelope: every error answer over HTTP is `{ error: { code, message } }` (the code
 * is stable, the message names the field and the rule; http/errors.ts sends it).
 */
import { z } from 'zod';

export const errorSchema = z.strictObject({
  error: z.strictObject({ code: z.string(), message: z.string() }),
});
export type ErrorView = z.infer<typeof errorSchema>;

export function errorView(code: string, message: string): ErrorView {
  return { error: { code, message } };
}
