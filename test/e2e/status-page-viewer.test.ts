/**
 * The status page for a read-only viewer and after an undo, in a real browser (Debian's
 * chromium through playwright-core) against a real server on a loopback port, over real Redis,
 * workers, the breaker and the simulator. The server takes named tokens, as
 * `ADMIN_TOKENS=ops:<token>,viewer:<token>:read` (parsed by the config's own rule).
 * - The viewer (credentials in the URL): the page loads without a console error and shows the
 *   runs (one running, one finished), the tripped breaker and the held accounts, with no
 *   Cancel, Undo or Reset button; a POST to cancel, undo or reset with the viewer's Basic
 *   credentials from the page itself answers 403 `forbidden` and changes nothing.
 * - ops (an admin token) cancels the running run and undoes the finished one from the page:
 *   both pages then show who started each run (`created_by`), who cancelled it, and the undo
 *   (`undone`, by ops, its time, the accounts reactivated) with no Undo button any more.
 * Screenshot: /tmp/status-page-viewer.png. Skipped as status-page.test.ts is when Chromium is
 * absent.
 */
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { adminTokensRule } from '../../src/config/admin-tokens.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { startBreakerService, type BreakerService } from '../../src/ops/breaker-service.js';
import { getBatch } from '../../src/ops/bulk.js';
import { openWindows, type WindowsHandle } from '../../src/ops/windows.js';
import { SIM_LOCKED_ID, simAccountId } from '../../src/sim/index.js';
import { CHROMIUM, SKIP_BROWSER, textOf } from '../support/browser.js';
import { waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

sharedFixtures();

const SCREENSHOT = '/tmp/status-page-viewer.png';
const OPS = 'ops-token-status-viewer-0123';
const VIEWER = 'viewer-token-status-viewer-0123';
const ADMIN_TOKENS = `ops:${OPS},viewer:${VIEWER}:read`;
const auth = { authorization: `Bearer ${OPS}` };
const OFF = simAccountId(1);
const TRIPPED = simAccountId(2);
const STUCK = [5, 6, 7].map((i) => simAccountId(i));
const FINISHED = [9, 10].map((i) => simAccountId(i));

let p: Pipeline | undefined;
let breaker: BreakerService | undefined;
let windows: WindowsHandle | undefined;
let app: HttpServer | undefined;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await windows?.close();
  await breaker?.close();
  await p?.stop();
});

/** A page opened with `user:token` in its URL; its console errors and dialogs collected. */
async function openPage(context: BrowserContext, base: string, user: string, token: string) {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.accept();
  });
  const res = await page.goto(`http://${user}:${token}@${base}/`);
  expect(res?.status()).toBe(200);
  return { page, problems, dialogs };
}

describe.skipIf(SKIP_BROWSER)('the status page for a viewer', () => {
  it('shows a read-only viewer no buttons and refuses its POSTs; shows who did what and the undo', async () => {
    p = await startPipeline({ workers: 1, sim: { accounts: 12 } });
    const pipeline = p;
    const adminTokens = adminTokensRule().parse(ADMIN_TOKENS);
    expect(adminTokens.map((t) => `${t.name}:${t.kind}`)).toEqual(['ops:admin', 'viewer:read']);
    const config = { ...p.config, adminToken: undefined, adminTokens };
    const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
    breaker = await startBreakerService(config, logger, { tickMs: 100 });
    windows = openWindows(config);
    app = await buildServer({ config, redis: p.redis, logger, breaker, windows });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const base = `127.0.0.1:${port}`;
    const server = app;
    const post = async (url: string, payload: object) => {
      const res = await server.inject({ method: 'POST', url, headers: auth, payload });
      expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(300);
    };

    // With the worker: a finished run, a manual deactivation, a refused one, a tripped breaker.
    await post('/v1/batches', { action: 'deactivate', batch_id: 'finished-run', ids: FINISHED });
    await post('/v1/actions', { action: 'deactivate', accounts: [OFF], reason: 'by hand' });
    await post('/v1/actions', { action: 'deactivate', accounts: [SIM_LOCKED_ID], reason: 'spam' });
    await post(`/v1/breakers/${TRIPPED}/trip`, { reason: 'bounce spike' });
    await waitFor(
      async () =>
        (await getBatch(config, 'finished-run'))?.finished_at &&
        (await pipeline.status(OFF))?.last_outcome === 'succeeded' &&
        (await pipeline.status(SIM_LOCKED_ID))?.last_outcome === 'failed' &&
        pipeline.sim.account(TRIPPED)?.status === 'inactive'
          ? true
          : undefined,
      20_000,
      'the run finished, the deactivations recorded, the tripped account off',
    );
    // Then no worker: the next run stays running.
    await pipeline.workers[0]?.close(2_000);
    await post('/v1/batches', { action: 'deactivate', batch_id: 'stuck-run', ids: STUCK });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    const viewerContext = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const opsContext = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    try {
      const viewer = await openPage(viewerContext, base, 'viewer', VIEWER);
      const vp = viewer.page;

      // Everything shows: the runs, the breaker, the held accounts.
      const stuckRow = '#batches tr[data-batch="stuck-run"]';
      const finishedRow = '#batches tr[data-batch="finished-run"]';
      const trippedRow = `#breakers tr[data-account="${TRIPPED}"]`;
      const running = await textOf(vp, `${stuckRow}[data-state="running"]`);
      expect(running).toContain('0 / 3');
      expect(await textOf(vp, `${stuckRow} td:nth-child(6)`)).toContain('by ops');
      const finished = await textOf(vp, `${finishedRow}[data-state="finished"]`);
      expect(finished).toContain('2 / 2');
      expect(await textOf(vp, `${finishedRow} td:nth-child(6)`)).toContain('by ops');
      expect(await textOf(vp, `${finishedRow} td:nth-child(8)`)).toBe('–');
      expect(await textOf(vp, `${trippedRow}[data-state="open"]`)).toContain('read-only token');
      const locked = await textOf(vp, `#held tr[data-account="${SIM_LOCKED_ID}"]`);
      expect(locked).toContain('still on');
      expect(await textOf(vp, `#held tr[data-account="${OFF}"]`)).toContain('off');
      // ... and no button at all: no Cancel, no Undo, no Reset.
      expect(await vp.locator('button[data-action]').count()).toBe(0);
      expect(await vp.locator('#batches button, #breakers button, #held button').count()).toBe(0);

      // So far no console error (the page's whoami and reads all answered).
      expect(viewer.problems).toEqual([]);

      // The viewer's Basic credentials, sent by the page itself (same origin): 403, nothing done.
      const refused = await vp.evaluate(
        async ({ origin, paths, token }) => {
          const out: { path: string; status: number; code: string | undefined }[] = [];
          for (const path of paths) {
            const res = await fetch(origin + path, {
              method: 'POST',
              headers: { authorization: 'Basic ' + btoa('viewer:' + token) },
            });
            const body = (await res.json()) as { error?: { code?: string } };
            out.push({ path, status: res.status, code: body.error?.code });
          }
          return out;
        },
        {
          // The page's origin, without the credentials its address has (fetch refuses those).
          origin: `http://${base}`,
          paths: [
            '/v1/batches/stuck-run/cancel',
            '/v1/batches/finished-run/undo',
            `/v1/breakers/${TRIPPED}/reset`,
          ],
          token: VIEWER,
        },
      );
      expect(refused.map((r) => `${r.path} ${r.status} ${r.code}`)).toEqual([
        '/v1/batches/stuck-run/cancel 403 forbidden',
        '/v1/batches/finished-run/undo 403 forbidden',
        `/v1/breakers/${TRIPPED}/reset 403 forbidden`,
      ]);
      // Chromium logs each refused request, and nothing else; then the list starts over.
      expect(viewer.problems).toEqual(
        Array(3).fill(
          'Failed to load resource: the server responded with a status of 403 (Forbidden)',
        ),
      );
      viewer.problems.length = 0;
      const stillRunning = await getBatch(config, 'stuck-run');
      expect(stillRunning).toMatchObject({ cancelled: 0, cancelled_at: null, undo: null });
      expect((await getBatch(config, 'finished-run'))?.undo).toBeNull();
      expect((await breaker.breaker.status(TRIPPED)).state).toBe('open');

      // ops on its own page: the buttons are there; Cancel, then (with a worker) Undo.
      const ops = await openPage(opsContext, base, 'ops', OPS);
      const op = ops.page;
      await op.locator(`${stuckRow} button[data-action="cancel"]`).click();
      await op.locator(`${stuckRow}[data-state="cancelled"]`).waitFor({ timeout: 15_000 });
      expect(await textOf(op, `${stuckRow} td:nth-child(3)`)).toContain('by ops');
      await pipeline.addWorker();
      await op.locator(`${finishedRow} button[data-action="undo"]`).click();
      await waitFor(
        async () =>
          FINISHED.every((id) => pipeline.sim.account(id)?.status === 'active') &&
          (await getBatch(config, 'finished-run'))?.undo?.state === 'done'
            ? true
            : undefined,
        20_000,
        'the undone run back on, its undo done',
      );
      expect(ops.dialogs).toEqual([
        expect.stringContaining('Cancel batch stuck-run?'),
        expect.stringContaining('Undo batch finished-run?'),
      ]);
      expect((await getBatch(config, 'finished-run'))?.undo).toMatchObject({
        state: 'done',
        by: 'ops',
        reactivated: 2,
      });

      // Both pages, after their refresh: the undo, by ops, and no Undo button any more.
      for (const page of [vp, op]) {
        await page.locator(`${finishedRow}[data-undo="undone"]`).waitFor({ timeout: 15_000 });
        // The Undo column (the run's own `by ops`, who started it, is in the Created column).
        const undone = await textOf(page, `${finishedRow} td:nth-child(8)`);
        expect(undone).toContain('undone');
        expect(undone).toContain('by ops');
        expect(undone).toContain('2 reactivated');
        expect(undone).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
        expect(await page.locator(`${finishedRow} button`).count()).toBe(0);
        const cancelled = await textOf(page, `${stuckRow}[data-state="cancelled"]`);
        expect(cancelled).toContain('by ops');
        expect(await page.locator(`${stuckRow} button`).count()).toBe(0);
      }
      // The viewer still has no button, after its refreshes.
      expect(await vp.locator('button[data-action]').count()).toBe(0);
      await vp.screenshot({ path: SCREENSHOT, fullPage: true });

      // No console error on either page since.
      expect(viewer.problems).toEqual([]);
      expect(ops.problems).toEqual([]);
    } finally {
      await viewerContext.close();
      await opsContext.close();
    }
  });
});
