/**
 * The status page's issue 20 parts in a real browser (Debian's chromium through playwright-core)
 * against a real server on a loopback port, over real Redis, workers and the simulator. The page
 * is opened with the credentials in its URL (`http://admin:TOKEN@host/`) and must load, fetch and
 * post without a console error. Shown and used:
 * - the bulk runs panel: a run with no worker to serve it is running (progress 0 / 4); Cancel,
 *   its dialog accepted, cancels it (in Redis and on the page); a finished run is undone with
 *   Undo (its accounts back on in the simulator);
 * - the accounts panel: a search finds one account among 300 recorded ones, and Next / Previous
 *   page through them, served by the server;
 * - times with their zone (`... UTC`) and durations like `2h`;
 * - a held account whose deactivation failed (the simulator's locked account): held, still on,
 *   the failure and the command; counted apart from the held accounts that are off.
 * Screenshot: /tmp/status-page-i20.png. Skipped as status-page.test.ts is when Chromium is absent.
 */
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { getBatch } from '../../src/ops/bulk.js';
import { openWindows, type WindowsHandle } from '../../src/ops/windows.js';
import { SIM_LOCKED_ID, simAccountId } from '../../src/sim/index.js';
import { encodeAccountPart, S } from '../../src/store/status-record.js';
import { CHROMIUM, SKIP_BROWSER, textOf } from '../support/browser.js';
import { waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

sharedFixtures();

const SCREENSHOT = '/tmp/status-page-i20.png';
const ADMIN = 'admin-token-status-runs-0123';
const auth = { authorization: `Bearer ${ADMIN}` };
const OFF = simAccountId(1);
const STUCK = [5, 6, 7, 8].map((i) => simAccountId(i));
const FINISHED = [9, 10].map((i) => simAccountId(i));
const many = (i: number) => `dprov_many${String(i).padStart(4, '0')}`;

let p: Pipeline | undefined;
let windows: WindowsHandle | undefined;
let app: HttpServer | undefined;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await windows?.close();
  await p?.stop();
});

describe.skipIf(SKIP_BROWSER)("the status page's runs, search, held", () => {
  it('cancels and undoes runs, searches and pages accounts, shows held-still-on', async () => {
    // No worker yet: the first run stays running until it is cancelled.
    p = await startPipeline({ workers: 0, sim: { accounts: 12 } });
    const pipeline = p;
    const config = { ...p.config, adminToken: ADMIN };
    const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
    windows = openWindows(config);
    app = await buildServer({ config, redis: p.redis, logger, windows });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const server = app;
    const post = async (url: string, payload: object) => {
      const res = await server.inject({ method: 'POST', url, headers: auth, payload });
      expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(300);
    };

    // 300 recorded accounts, older than the real ones, written in one pipeline.
    const part = encodeAccountPart(
      { status: 'active', is_active: true, status_reason: null, updated_at: null },
      null,
    );
    const seed = p.redis.pipeline();
    for (let i = 0; i < 300; i++) {
      seed.hset(p.keys.status(many(i)), S.account, part);
      seed.zadd(p.keys.statusIndex, Date.now() - 86_400_000 + i, many(i));
    }
    await seed.exec();

    await post('/v1/batches', { action: 'deactivate', batch_id: 'stuck-run', ids: STUCK });
    // An upcoming window two hours away: its start reads `in 2h`.
    await post('/v1/windows', {
      id: 'in-two-hours',
      accounts: [simAccountId(11)],
      start: new Date(Date.now() + 7_200_000 + 20_000).toISOString(),
      end: new Date(Date.now() + 10_800_000 + 20_000).toISOString(),
      reason: 'provider maintenance',
    });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    // No httpCredentials: the credentials are in the URL only.
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    try {
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
      const res = await page.goto(`http://admin:${ADMIN}@127.0.0.1:${port}/`);
      expect(res?.status()).toBe(200);

      // The running run: progress, its time with its zone, a Cancel button; Cancel confirmed.
      const stuckRow = '#batches tr[data-batch="stuck-run"]';
      const running = await textOf(page, `${stuckRow}[data-state="running"]`);
      expect(running).toContain('0 / 4');
      expect(running).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      expect(await page.locator(`${stuckRow} button[data-action="undo"]`).count()).toBe(0);
      await page.locator(`${stuckRow} button[data-action="cancel"]`).click();
      await page.locator(`${stuckRow}[data-state="cancelled"]`).waitFor({ timeout: 15_000 });
      expect(dialogs).toEqual([expect.stringContaining('Cancel batch stuck-run?')]);
      expect(await textOf(page, '#notice')).toContain('Batch stuck-run cancelled: 4 removed');
      expect(await textOf(page, stuckRow)).toContain('4 / 4');
      // Nothing to undo: it switched nothing off.
      expect(await page.locator(`${stuckRow} button`).count()).toBe(0);
      const cancelled = await getBatch(config, 'stuck-run');
      expect(cancelled).toMatchObject({ cancelled: 4, succeeded: 0 });
      expect(cancelled?.cancelled_at).not.toBeNull();
      expect(STUCK.every((id) => pipeline.sim.account(id)?.status === 'active')).toBe(true);

      // Now a worker: a finished run, a manual deactivation, and one the simulator refuses.
      await pipeline.addWorker();
      await post('/v1/batches', { action: 'deactivate', batch_id: 'finished-run', ids: FINISHED });
      await post('/v1/actions', { action: 'deactivate', accounts: [OFF], reason: 'by hand' });
      await post('/v1/actions', {
        action: 'deactivate',
        accounts: [SIM_LOCKED_ID],
        reason: 'spam',
      });
      await waitFor(
        async () =>
          (await getBatch(config, 'finished-run'))?.finished_at &&
          (await pipeline.status(OFF))?.last_outcome === 'succeeded' &&
          (await pipeline.status(SIM_LOCKED_ID))?.last_outcome === 'failed'
            ? true
            : undefined,
        20_000,
        'the run finished, the manual deactivations recorded',
      );
      expect(FINISHED.every((id) => pipeline.sim.account(id)?.status === 'inactive')).toBe(true);

      // Undo the finished run from the page (after its next refresh).
      const finishedRow = '#batches tr[data-batch="finished-run"]';
      const finished = await textOf(page, `${finishedRow}[data-state="finished"]`);
      expect(finished).toContain('2 / 2');
      await page.locator(`${finishedRow} button[data-action="undo"]`).click();
      await waitFor(
        () =>
          FINISHED.every((id) => pipeline.sim.account(id)?.status === 'active') ? true : undefined,
        20_000,
        'the undone run back on',
      );
      expect(dialogs[1]).toContain('Undo batch finished-run?');
      expect(await textOf(page, '#notice')).toContain(
        'Batch finished-run undone: 2 being switched',
      );

      // Held, still on: the locked account, apart from the held account that is off.
      const lockedRow = `#held tr[data-account="${SIM_LOCKED_ID}"][data-still-on="true"]`;
      const locked = await textOf(page, lockedRow);
      expect(locked).toContain('still on');
      expect(locked).toContain('conflict');
      expect(locked).toContain(`sendmux-deactivator activate ${SIM_LOCKED_ID}`);
      expect(locked).toMatch(/UTC/);
      expect(await textOf(page, `#held tr[data-account="${OFF}"]`)).toContain('off');
      await expect
        .poll(() => page.locator('[data-card="held and off"] .n').textContent(), {
          timeout: 15_000,
        })
        .toBe('1');
      expect(await textOf(page, '[data-card="held, still on"] .n')).toBe('1');
      expect(await textOf(page, '#held-note')).toBe('1 off, 1 still on');

      // Durations: the window two hours away.
      const upcoming = await textOf(page, '#windows-upcoming tr[data-window="in-two-hours"]');
      expect(upcoming).toContain('in 2h');
      expect(upcoming).toContain('in 3h');
      expect(upcoming).not.toMatch(/\d (s|min|h)\b/);
      expect(await textOf(page, '#updated')).toMatch(
        /^updated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
      );
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      // Search and paging, served by the server: 300 + the real accounts, 50 a page.
      await page.locator(`#accounts tr[data-account="${OFF}"]`).waitFor({ timeout: 15_000 });
      expect(await page.locator('#accounts tbody tr').count()).toBe(50);
      const firstPage = await page
        .locator('#accounts tbody tr')
        .first()
        .getAttribute('data-account');
      await page.locator('#accounts-next').click();
      await expect.poll(() => textOf(page, '#accounts-note')).toContain('page 2');
      const secondPage = await page
        .locator('#accounts tbody tr')
        .first()
        .getAttribute('data-account');
      expect(secondPage).toMatch(/^dprov_many/);
      expect(secondPage).not.toBe(firstPage);
      await page.locator('#accounts-prev').click();
      await expect.poll(() => textOf(page, '#accounts-note')).toContain('page 1');
      await page.locator('#accounts-q').fill('many0123');
      await expect
        .poll(() => page.locator('#accounts tbody tr').count(), { timeout: 10_000 })
        .toBe(1);
      expect(await page.locator('#accounts tbody tr').getAttribute('data-account')).toBe(many(123));
      expect(await textOf(page, '#accounts-note')).toContain('ids containing "many0123"');
      expect(await page.locator('#accounts-next').isDisabled()).toBe(true);

      // No console error, credentials in the URL and all.
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
