/**
 * Bull Board at /admin/queues: its page behind the admin token, its JSON API listing the
 * deployment's queues (actions, windows, notifications) with their counts after an action was
 * enqueued through the API, read-only, nothing fetched from another host (its Google Fonts link
 * taken out), and its own Redis connection closed with the server.
 * Real Redis and the simulator; no worker, so the job stays waiting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  DASHBOARD_CSP,
  boardQueueNames,
  dashboardQueueNames,
  withoutExternalLinks,
} from '../../src/http/dashboard.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { simAccountId } from '../../src/sim/index.js';
import {
  NOTIFY_QUEUE_NAME,
  QUEUE_NAME,
  URGENT_QUEUE_NAME,
  WINDOW_QUEUE_NAME,
} from '../../src/store/keys.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

const ADMIN = 'admin-token-dashboard-0123';
const auth = { authorization: `Basic ${Buffer.from(`ops:${ADMIN}`).toString('base64')}` };

let p: Pipeline | undefined;
let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close();
  await p?.stop();
  app = p = undefined;
});

interface BoardQueue {
  name: string;
  readOnlyMode: boolean;
  counts: Record<string, number>;
  jobs: { id: string; data: { accountId: string } }[];
}

describe('the queue names', () => {
  it('come from store/keys.ts: the actions queue first, then any other *_QUEUE_NAME', () => {
    const names = dashboardQueueNames();
    expect(names[0]).toBe(QUEUE_NAME);
    expect(names).toContain(WINDOW_QUEUE_NAME);
    // A notifications queue is listed once keys.ts names it, and nothing breaks without it.
    expect(
      dashboardQueueNames({
        QUEUE_NAME: 'actions',
        WINDOW_QUEUE_NAME: 'windows',
        NOTIFY_QUEUE_NAME: 'notifications',
        QUEUE_OPTIONS: 'x',
        BATCH_QUEUE_SIZE: 'y',
        QUEUE_PREFIX_RULE: /x/,
      }),
    ).toEqual(['actions', 'notifications', 'windows']);
    expect(dashboardQueueNames({ QUEUE_NAME: 'actions', WINDOW_QUEUE_NAME: 'windows' })).toEqual([
      'actions',
      'windows',
    ]);
  });
});

describe('/admin/queues', () => {
  it('shows the notifications queue only when failure webhooks are on', () => {
    expect(boardQueueNames({ notifyUrl: undefined })).not.toContain(NOTIFY_QUEUE_NAME);
    expect(boardQueueNames({ notifyUrl: 'https://hooks.example/x' })).toEqual(
      dashboardQueueNames(),
    );
    expect(dashboardQueueNames()).toContain(NOTIFY_QUEUE_NAME);
  });

  it('serves the board, and its API lists the queues with counts after an action', async () => {
    p = await startPipeline({ workers: 0, sim: { accounts: 5 } });
    const config = { ...p.config, adminToken: ADMIN };
    const logger = createLogger({ level: 'silent', pretty: false });
    app = await buildServer({ config, redis: p.redis, logger });

    const page = await app.inject({ method: 'GET', url: '/admin/queues', headers: auth });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<base href="/admin/queues/"');
    expect(page.body).toContain('sendmux-deactivator');
    // Not framed, only this server's scripts (as the status page): on the page and its files.
    expect(page.headers).toMatchObject({
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'content-security-policy': DASHBOARD_CSP,
    });
    expect(DASHBOARD_CSP).toContain("frame-ancestors 'none'");
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    // Nothing fetched from another host: Bull Board's Google Fonts link is gone from the page,
    // and neither the page nor its stylesheets load anything by an absolute URL.
    const elsewhere = /(?:https?:)?\/\/(?!localhost[:/])[a-z0-9.-]+\.[a-z]{2,}/i;
    expect(page.body).not.toMatch(/fonts\.googleapis|<link[^>]*href="(https?:)?\/\//);
    expect(page.body).not.toMatch(elsewhere);
    expect(
      withoutExternalLinks('<link href="https://x.example/a.css" rel="stylesheet">\n<p>'),
    ).toBe('<p>');
    const sheets = [...page.body.matchAll(/<link[^>]*href="([^"]+\.css)"/g)].map((m) => m[1]);
    expect(sheets.length).toBeGreaterThan(0);
    for (const sheet of sheets) {
      const css = await app.inject({ method: 'GET', url: `/admin/queues/${sheet}`, headers: auth });
      expect(css.statusCode, sheet).toBe(200);
      expect(css.body, sheet).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
      expect(css.body, sheet).not.toMatch(/@import[^;]*(https?:)?\/\//i);
    }
    const script = /<script defer src="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const asset = await app.inject({
      method: 'GET',
      url: `/admin/queues/${script}`,
      headers: auth,
    });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['x-frame-options']).toBe('DENY');
    const deep = await app.inject({
      method: 'GET',
      url: `/admin/queues/queue/${QUEUE_NAME}`,
      headers: auth,
    });
    expect(deep.statusCode).toBe(200);

    const account = simAccountId(2);
    const enqueued = await app.inject({
      method: 'POST',
      url: '/v1/actions',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { action: 'deactivate', accounts: [account], reason: 'dashboard test' },
    });
    expect(enqueued.statusCode).toBe(202);

    const api = await app.inject({
      method: 'GET',
      url: `/admin/queues/api/queues?activeQueue=${QUEUE_NAME}&status=latest&page=1&jobsPerPage=10`,
      headers: auth,
    });
    expect(api.statusCode).toBe(200);
    const queues = api.json<{ queues: BoardQueue[] }>().queues;
    const byName = new Map(queues.map((q) => [q.name, q]));
    expect([...byName.keys()]).toEqual(
      expect.arrayContaining([QUEUE_NAME, URGENT_QUEUE_NAME, WINDOW_QUEUE_NAME]),
    );
    // Without NOTIFY_URL no worker serves the notifications queue: not shown (no "no workers" alarm).
    expect(config.notifyUrl).toBeUndefined();
    expect(byName.has(NOTIFY_QUEUE_NAME)).toBe(false);
    expect(byName.size).toBe(dashboardQueueNames().length - 1);
    const actions = byName.get(QUEUE_NAME);
    expect(actions?.counts).toMatchObject({ waiting: 1, active: 0, failed: 0 });
    expect(actions?.readOnlyMode).toBe(true);
    expect(actions?.jobs.map((j) => j.data.accountId)).toEqual([account]);
    expect(byName.get(WINDOW_QUEUE_NAME)?.counts).toMatchObject({ waiting: 0, delayed: 0 });

    // Read-only: the board cannot pause or empty the queues behind the pipeline's back.
    const pause = await app.inject({
      method: 'PUT',
      url: `/admin/queues/api/queues/${QUEUE_NAME}/pause`,
      headers: { ...auth, origin: 'http://localhost:3000', host: 'localhost:3000' },
    });
    expect(pause.statusCode).toBe(405);
    expect(await p.producer.queue.isPaused()).toBe(false);
    expect(await p.producer.queue.getWaitingCount()).toBe(1);
  });
});
