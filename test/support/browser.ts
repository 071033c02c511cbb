/**
 * What the status page's browser tests share: where Chromium is (CHROMIUM_PATH, else Debian's
 * /usr/bin/chromium), whether to skip them (no Chromium and SDX_REQUIRE_BROWSER unset; .ci/run
 * sets it, so there a missing browser fails them), and reading an element's text once shown.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** No browser here and none required: the browser tests are skipped. */
export const SKIP_BROWSER = !existsSync(CHROMIUM) && process.env.SDX_REQUIRE_BROWSER !== '1';

/** The text of the first element `selector` matches, once there. */
export async function textOf(page: Page, selector: string): Promise<string> {
  const node = page.locator(selector).first();
  await node.waitFor({ timeout: 15_000 });
  return (await node.textContent()) ?? '';
}
