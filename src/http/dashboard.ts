/**
 * Bull Board, the queues dashboard, at /admin/queues (behind the admin token: its page, its
 * JSON API and its static files alike; browsers get a Basic challenge, auth.ts). It shows every
 * BullMQ queue named in store/keys.ts (`actions`, `windows`, and any other `*_QUEUE_NAME` there,
 * such as a notifications queue), read through Queue instances of its own on one Redis
 * connection with the deployment's prefix, closed with the server.
 *
 * Read-only: retrying, promoting, removing or cleaning jobs by hand would go around the
 * bindings and holds that keep the pipeline's promises (a removed job is an intent that ends
 * `failed` at the next repair; a promoted window start runs an occurrence early).
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config.js';
import { createRedis } from '../redis/connect.js';
import { deadline, quitWithin, within } from '../shutdown.js';
import * as keyNames from '../store/keys.js';
import { BROWSER_ROUTE } from './auth.js';

/** Where the dashboard is served. */
export const DASHBOARD_PATH = '/admin/queues';

/** Longest wait for the dashboard's connection to close when the server stops. */
const CLOSE_MS = 1_000;

/**
 * Bull Board's page, as it is built: its scripts, stylesheets, locales and icons come from
 * this server (`'self'`); its HTML carries a JSON script (not run, so not a CSP matter), a
 * `<base href>` (`base-uri 'self'`) and inline styles on its loading placeholder (and React's
 * style attributes), hence `'unsafe-inline'` for styles only. Its page links a web font
 * stylesheet from fonts.googleapis.com: that link is taken out of the page as it is served
 * ({@link withoutExternalLinks}), so the browser never tries it (no third party learns who
 * opens the board, no CSP report); the board uses the browser's fonts. No frames, no forms
 * elsewhere.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The page without its `<link>`s to other hosts (Bull Board's Google Fonts stylesheet): a
 * browser would fetch them at once, and the CSP would refuse them. Everything else the page
 * loads is relative (its own static files).
 */
export function withoutExternalLinks(html: string): string {
  return html.replace(/<link\b[^>]*\bhref=["']?(?:https?:)?\/\/[^>]*>\s*/gi, '');
}

/**
 * The queue names store/keys.ts exports (`QUEUE_NAME`, `WINDOW_QUEUE_NAME`, and any queue added
 * there later under a `..._QUEUE_NAME` or `..._QUEUE` constant): the actions queue first, then
 * the others by name.
 */
export function dashboardQueueNames(names: Readonly<Record<string, unknown>> = keyNames): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(names)) {
    if (!/^([A-Z0-9]+_)*QUEUE(_NAME)?$/.test(name)) continue;
    if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) continue;
    if (!out.includes(value)) out.push(value);
  }
  const first = names.QUEUE_NAME;
  return out.sort((a, b) => Number(b === first) - Number(a === first) || a.localeCompare(b));
}

/**
 * The queues the board shows for a deployment: the notifications queue only when failure
 * webhooks are on (`NOTIFY_URL`): without them no worker serves it, and the board would show
 * it with a "no workers" alarm.
 */
export function boardQueueNames(config: Pick<Config, 'notifyUrl'>): string[] {
  return dashboardQueueNames().filter(
    (name) => name !== keyNames.NOTIFY_QUEUE_NAME || config.notifyUrl !== undefined,
  );
}

export function dashboard(deps: {
  config: Pick<Config, 'redisUrl' | 'redisClusterNodes' | 'prefix' | 'notifyUrl'>;
}): FastifyPluginAsync {
  return async (app) => {
    const { config } = deps;
    // Queues only send short commands: one connection for all of them, retrying a command at
    // most 3 times while Redis is away (the dashboard's request then errors).
    const redis = createRedis(config, { maxRetriesPerRequest: 3 });
    const queues = boardQueueNames(config).map((name) => {
      const queue = new Queue(name, { connection: redis, prefix: config.prefix });
      // Errors reach the dashboard's requests; the listener stops "unhandled error" printing.
      queue.on('error', () => undefined);
      return queue;
    });
    app.addHook('onClose', async () => {
      // Bounded whatever Redis does (down, frozen): past the time, the connection is dropped.
      const left = deadline(CLOSE_MS);
      await within(Promise.all(queues.map((q) => q.close())), left());
      await quitWithin(redis, left());
    });

    // Every route Bull Board adds (page, API, static files) is a browser route.
    app.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), ...BROWSER_ROUTE };
    });
    // As the status page: no framing, only this server's scripts, nothing sent elsewhere.
    app.addHook('onSend', async (_req, reply, payload) => {
      const type = String(reply.getHeader('content-type') ?? '');
      if (typeof payload === 'string' && type.startsWith('text/html')) {
        payload = withoutExternalLinks(payload);
      }
      void reply
        .header('content-security-policy', DASHBOARD_CSP)
        .header('x-frame-options', 'DENY')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer');
      return payload;
    });

    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(DASHBOARD_PATH);
    createBullBoard({
      queues: queues.map(
        (q) =>
          new BullMQAdapter(q, {
            readOnlyMode: true,
            description: `prefix ${config.prefix}`,
          }),
      ),
      serverAdapter,
      options: { uiConfig: { boardTitle: 'sendmux-deactivator' } },
    });
    await app.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  };
}
