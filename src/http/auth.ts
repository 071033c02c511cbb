/**
 * The admin bearer token. Every route needs `Authorization: Bearer <ADMIN_TOKEN>` unless it
 * says `config: PUBLIC_ROUTE` (health, and the webhook receiver, which checks its signature
 * instead): a route added later, or a path that matches none, is closed by default.
 * When ADMIN_TOKEN is unset the admin routes answer 503 `admin_token_unset`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without the admin token. */
    public?: boolean;
  }
}

/** Route config of a route open without the admin token. */
export const PUBLIC_ROUTE = { public: true } as const;

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Install the check on the whole server (call on the root instance, before any route). */
export function requireAdminToken(app: FastifyInstance, token: string | undefined): void {
  const expected = token === undefined ? undefined : digest(token);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    // A path that matches no route is not public either.
    if (req.routeOptions.config.public === true) return;
    if (expected === undefined) {
      return sendError(
        reply,
        503,
        'admin_token_unset',
        'ADMIN_TOKEN: is not set, so the admin routes are off',
      );
    }
    const given = bearerToken(req.headers.authorization);
    // Both sides hashed: equal lengths whatever was sent, and a constant-time compare.
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      void reply.header('www-authenticate', 'Bearer');
      return sendError(
        reply,
        401,
        'unauthorized',
        given === undefined
          ? 'Authorization: must be "Bearer <ADMIN_TOKEN>"'
          : 'Authorization: the bearer token is not ADMIN_TOKEN',
      );
    }
    return undefined;
  });
}
