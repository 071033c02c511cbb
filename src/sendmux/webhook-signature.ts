/**
 * Sendmux's webhook signature: `X-Sendmux-Signature: sha256=<hex>`, the lowercase hex
 * HMAC-SHA256 of the raw body bytes keyed with the subscription's secret. Checked in constant
 * time; a missing header, another scheme (`sha1=`) or a wrong length is simply a mismatch.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries the signature (lower case, as node reports headers). */
export const SIGNATURE_HEADER = 'x-sendmux-signature';

const SCHEME = 'sha256=';
/** `sha256=` + 64 hex digits. */
const SIGNATURE_LENGTH = SCHEME.length + 64;

/** The header value Sendmux sends for `body` signed with `secret`. */
export function webhookSignature(secret: string, body: Buffer | string): string {
  return SCHEME + createHmac('sha256', secret).update(body).digest('hex');
}

/** Whether `header` is the signature of `body` with `secret` (constant time). */
export function verifyWebhookSignature(
  secret: string,
  body: Buffer,
  header: string | readonly string[] | undefined,
): boolean {
  // A repeated header is not a signature.
  if (typeof header !== 'string' || header.length !== SIGNATURE_LENGTH) return false;
  const expected = Buffer.from(webhookSignature(secret, body), 'utf8');
  // utf8, not latin1: latin1 would keep only the low byte of a character beyond it, so
  // another header would compare equal.
  const given = Buffer.from(header, 'utf8');
  // timingSafeEqual needs equal lengths; a non-ASCII header is longer in bytes.
  return given.length === expected.length && timingSafeEqual(given, expected);
}
