/**
 * A listing that cannot loop for ever (issue 21 §1): a server whose listing always answers
 * `has_more: true` with the same cursor (as Stoplight Prism's mock of Sendmux's OpenAPI file
 * does: `next_cursor: "string"`), and one whose cursors change for ever. The client stops with a
 * typed error naming the cursor and the page count after a bounded number of requests, and
 * `bulk --filter --dry-run`, a real process, exits with that error instead of running on.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendmuxClient, INVALID_PAGINATION, SendmuxError } from '../../src/sendmux/index.js';
import { activeAccountItem } from '../../src/sim/seed.js';
import { runCli } from '../support/cli-process.js';
import { dropPrefix, testConfig } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();

/** Requests each path saw. */
const hits = { same: 0, changing: 0 };
let server: http.Server;
let url: string;

function page(id: string, nextCursor: string) {
  return {
    ok: true,
    data: [activeAccountItem(id, id, 'smtp', Date.parse('2026-11-01T00:00:00Z'))],
    pagination: { has_more: true, next_cursor: nextCursor },
    meta: { request_id: 'req_loop' },
  };
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    if (u.pathname.startsWith('/same/') && u.pathname.endsWith('/providers')) {
      hits.same += 1;
      res.end(JSON.stringify(page(`dprov_same${hits.same}`, 'string')));
      return;
    }
    if (u.pathname.startsWith('/changing/') && u.pathname.endsWith('/providers')) {
      hits.changing += 1;
      res.end(JSON.stringify(page(`dprov_chg${hits.changing}`, `c${hits.changing}`)));
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ ok: false, error: { code: 'not_found', message: 'no such route' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
});

async function listAll(base: string, maxPages?: number): Promise<unknown> {
  const client = createSendmuxClient({ baseUrl: base, apiKey: 'smx_loop_key', timeoutMs: 2_000 });
  try {
    let items = 0;
    for await (const item of client.listProviders({}, { maxPages })) items += item.id ? 1 : 0;
    return items;
  } catch (err) {
    return err;
  } finally {
    client.close();
  }
}

describe('a listing that cannot loop', () => {
  it('stops when the API repeats a cursor, naming it and the pages read', async () => {
    hits.same = 0;
    const err = await listAll(`${url}/same/api/v1`);
    expect(err).toBeInstanceOf(SendmuxError);
    const e = err as SendmuxError;
    expect(e.code).toBe(INVALID_PAGINATION);
    expect(e.kind).toBe('permanent');
    expect(e.message).toContain('cursor "string" again after page 2 (first after page 1)');
    expect(hits.same).toBe(2);
  });

  it('stops when the pages go past the most a listing may read', async () => {
    hits.changing = 0;
    const err = await listAll(`${url}/changing/api/v1`, 5);
    expect(err).toBeInstanceOf(SendmuxError);
    expect((err as SendmuxError).code).toBe(INVALID_PAGINATION);
    expect((err as SendmuxError).message).toContain('still more pages after 5 pages');
    expect(hits.changing).toBe(5);
  });

  it('bulk --filter --dry-run exits with the error instead of running on', async () => {
    hits.same = 0;
    const config = testConfig();
    try {
      const r = await runCli(['bulk', '--filter', 'status=active', '--dry-run'], {
        REDIS_URL: config.redisUrl,
        QUEUE_PREFIX: config.prefix,
        LOG_LEVEL: 'silent',
        SENDMUX_BASE_URL: `${url}/same/api/v1`,
        SENDMUX_API_KEY: 'smx_loop_key',
      });
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toContain('GET /providers: the API gave cursor "string" again');
      expect(hits.same).toBeLessThanOrEqual(4);
    } finally {
      await dropPrefix(config.prefix);
    }
  });
});
