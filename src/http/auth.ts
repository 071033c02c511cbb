/**
 * The admin tokens. Every route needs an admin token (ADMIN_TOKEN, named `admin`, or one of
 * ADMIN_TOKENS, config/admin-tokens.ts) unless it says `config: PUBLIC_ROUTE`
 * (`/healthz`, `/readyz`, `/openapi.json`, and the webhook receiver, which checks its signature
 * instead): a route added later, or a path that matches none, is closed by default. The token is accepted two ways:
 *
 * - `Authorization: Bearer <ADMIN_TOKEN>`, for programs;
 * - HTTP Basic with ADMIN_TOKEN as the password (any user name), for browsers, which cannot
 *   send a bearer header when they navigate. Routes marked `config: BROWSER_ROUTE` (the status
 *   page, Bull Board) answer a missing or wrong credential with a Basic challenge, so the
 *   browser asks for it; the API's routes keep challenging with `Bearer`.
 *
 * Both sides are hashed with SHA-256 and compared in constant time. A browser sends Basic
 * credentials by itself, to any site's request too, so a state-changing request (not GET, HEAD
 * or OPTIONS) authenticated with Basic must come from the same origin (`Sec-Fetch-Site`, else
 * `Origin` against `Host`): a cross-site form cannot reset a breaker or start a bulk run.
 * When no token is set every non-public route answers 503 `invalid_config`. The token's name is
 * the request's actor ({@link requestActor}); a read-only token (kind `read`) may GET and HEAD
 * every route and is refused anything else with 403 `forbidden` (Bull Board's retry, clean...
 * included).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { adminTokensOf, type AdminToken, type TokenKind } from '../config/admin-tokens.js';
import { sendError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without the admin token. */
    public?: boolean;
    /** Opened by browsers: a missing credential is answered with a Basic challenge. */
    browser?: boolean;
  }
}

/** The settings the check reads. */
export interface AdminTokenConfig {
  adminToken?: string | undefined;
  adminTokens?: readonly AdminToken[] | undefined;
}

/** Route config of a route open without the admin token. */
export const PUBLIC_ROUTE = { public: true } as const;
/** Route config of a page a browser opens (still behind the admin token). */
export const BROWSER_ROUTE = { browser: true } as const;

/** The realm browsers show when they ask for the credential. */
export const BASIC_REALM = 'sendmux-deactivator';
/** The challenge of the browser routes. */
export const BASIC_CHALLENGE = `Basic realm="${BASIC_REALM}", charset="UTF-8"`;

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

/** The password of `Authorization: Basic <base64(user:password)>`, or undefined. */
export function basicPassword(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** What an Authorization header offers. */
export interface Credential {
  scheme: 'bearer' | 'basic';
  secret: string;
}

export function credentialOf(header: string | undefined): Credential | undefined {
  const bearer = bearerToken(header);
  if (bearer !== undefined) return { scheme: 'bearer', secret: bearer };
  const basic = basicPassword(header);
  if (basic !== undefined) return { scheme: 'basic', secret: basic };
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** What a read-only token may do. */
const SAFE_READS = new Set(['GET', 'HEAD']);

/**
 * Why a request is cross-site, or undefined when it is not (or says nothing: a program's
 * request has neither header, and only browsers attach credentials by themselves).
 */
export function crossSiteReason(req: FastifyRequest): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') {
    return site === 'same-origin' ? undefined : `Sec-Fetch-Site is "${site}"`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  return host !== undefined && host === req.headers.host
    ? undefined
    : `Origin ${origin} is not this server`;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** What an authenticated request came with: its token's name and kind. */
export interface RequestToken {
  name: string;
  kind: TokenKind;
}

/**
 * The token that matches `secret`, comparing with every token (both sides hashed, constant
 * time, no early stop: the time says nothing about which one matched, or how many there are).
 */
function matchToken(
  tokens: readonly { digest: Buffer; name: string; kind: TokenKind }[],
  secret: string,
): RequestToken | undefined {
  const given = digest(secret);
  let found: RequestToken | undefined;
  for (const t of tokens) {
    if (timingSafeEqual(given, t.digest) && found === undefined) {
      found = { name: t.name, kind: t.kind };
    }
  }
  return found;
}

/**
 * Why a read-only token may not make this request, or undefined when it may: it may GET and
 * HEAD anything (the status page, Bull Board's pages, the API's reads), and nothing else.
 */
function readOnlyRefusal(req: FastifyRequest, token: RequestToken): string | undefined {
  if (token.kind !== 'read' || SAFE_READS.has(req.method)) return undefined;
  return `${req.method} ${req.url.split('?')[0] ?? ''}: the token "${token.name}" is read-only (ADMIN_TOKENS kind read)`;
}

/** Install the check on the whole server (call on the root instance, before any route). */
export function requireAdminToken(app: FastifyInstance, config: AdminTokenConfig): void {
  const tokens = adminTokensOf(config).map((t) => ({
    digest: digest(t.token),
    name: t.name,
    kind: t.kind,
  }));
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    // A path that matches no route is not public either.
    const config = req.routeOptions.config;
    if (config.public === true) return;
    if (tokens.length === 0) {
      return sendError(
        reply,
        'invalid_config',
        'ADMIN_TOKEN: is not set (nor ADMIN_TOKENS), so the admin routes are off',
      );
    }
    const given = credentialOf(req.headers.authorization);
    const token = given === undefined ? undefined : matchToken(tokens, given.secret);
    if (given === undefined || token === undefined) {
      const browser = config.browser === true;
      void reply.header('www-authenticate', browser ? BASIC_CHALLENGE : 'Bearer');
      return sendError(
        reply,
        'unauthorized',
        given === undefined
          ? 'Authorization: must be "Bearer <ADMIN_TOKEN>" (or Basic with ADMIN_TOKEN as the password)'
          : `Authorization: the ${given.scheme === 'bearer' ? 'bearer token' : 'Basic password'} is not ADMIN_TOKEN nor one of ADMIN_TOKENS`,
      );
    }
    const refusal = readOnlyRefusal(req, token);
    if (refusal !== undefined) return sendError(reply, 'forbidden', refusal);
    if (given.scheme === 'basic' && !SAFE_METHODS.has(req.method)) {
      const why = crossSiteReason(req);
      if (why !== undefined) {
        return sendError(
          reply,
          'cross_site_request',
          `${req.method} with Basic credentials must come from this server's own pages (${why})`,
        );
      }
    }
    requestTokens.set(req, token);
    return undefined;
  });
}

/** The token each authenticated request came with. */
const requestTokens = new WeakMap<FastifyRequest, RequestToken>();

/**
 * Who sent this request: the name of the admin token it was signed with (`admin` for the single
 * ADMIN_TOKEN); null on a public route.
 */
export function requestActor(req: FastifyRequest): string | null {
  return requestTokens.get(req)?.name ?? null;
}

/** The token (name and kind) this request came with; undefined on a public route. */
export function requestToken(req: FastifyRequest): RequestToken | undefined {
  return requestTokens.get(req);
}
