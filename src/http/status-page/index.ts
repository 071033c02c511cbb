/**
 * The status page at `/` (behind the admin token; browsers get a Basic challenge, auth.ts): an
 * HTML shell, its script (TypeScript in ./browser/, bundled: script.ts) and its stylesheet, each
 * a route of its own so the Content Security Policy allows only this server's scripts and styles
 * (nothing inline). The data comes from GET /v1/overview (overview-routes.ts), fetched by the
 * script.
 *
 *   GET /            the page (text/html)
 *   GET /status.js   its script
 *   GET /status.css  its stylesheet
 */
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { BROWSER_ROUTE } from '../auth.js';
import { STATUS_HTML } from './html.js';
import { statusScript } from './script.js';
import { STATUS_CSS } from './style.js';

/** Only this server's files; data only through fetch to this server; no frames, no forms. */
export const STATUS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function secure(reply: FastifyReply, type: string): FastifyReply {
  return reply
    .type(type)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store');
}

export function statusPage(): FastifyPluginCallback {
  return (app, _opts, done) => {
    app.get('/', { config: BROWSER_ROUTE }, (_req, reply) =>
      secure(reply, 'text/html; charset=utf-8')
        .header('content-security-policy', STATUS_CSP)
        .header('x-frame-options', 'DENY')
        .send(STATUS_HTML),
    );
    app.get('/status.js', { config: BROWSER_ROUTE }, async (_req, reply) =>
      secure(reply, 'text/javascript; charset=utf-8').send(await statusScript()),
    );
    app.get('/status.css', { config: BROWSER_ROUTE }, (_req, reply) =>
      secure(reply, 'text/css; charset=utf-8').send(STATUS_CSS),
    );
    done();
  };
}
