/**
 * The status page's script: its browser code (src/http/status-page/browser/) bundles into one
 * classic script (no import or export: the page loads it with a plain <script src>), a prebuilt
 * bundle is served as it is, and the server's overview (its wire view) still fits the shape the page reads
 * (checked by `npm run typecheck`). The page itself runs in Chromium in
 * test/e2e/status-page.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type {
  PageAccountsAnswer,
  PageBatchesAnswer,
  PageOverview,
} from '../../src/http/status-page/browser/overview.js';
import { bundleStatusScript } from '../../src/http/status-page/bundle.js';
import { readStatusScript } from '../../src/http/status-page/script.js';
import type { accountsListSchema, batchesListSchema, OverviewView } from '../../src/wire/index.js';

describe("the status page's script", () => {
  it('bundles into one classic script that fetches the overview', async () => {
    const text = await bundleStatusScript();
    expect(() => new Script(text, { filename: 'status.js' })).not.toThrow();
    expect(text).not.toMatch(/^\s*(import|export)\b/m);
    expect(text).toContain('"v1/overview"');
    expect(text).toContain('/reset"');
    expect(text).toContain('"v1/batches?limit="');
    expect(text).toContain('"v1/accounts?"');
    // Request URLs are absolute, from location.origin, which never holds credentials (issue 20 §4).
    expect(text).toContain('location.origin');
  });

  it('serves a prebuilt bundle as it is, and bundles when there is none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdx-status-js-'));
    try {
      const prebuilt = join(dir, 'status.js');
      writeFileSync(prebuilt, '/* prebuilt */');
      expect(await readStatusScript(pathToFileURL(prebuilt))).toBe('/* prebuilt */');
      const missing = pathToFileURL(join(dir, 'none.js'));
      expect(await readStatusScript(missing)).toBe(await bundleStatusScript());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads only what the server's answers have", () => {
    expectTypeOf<OverviewView>().toExtend<PageOverview>();
    expectTypeOf<z.infer<typeof accountsListSchema>>().toExtend<PageAccountsAnswer>();
    expectTypeOf<z.infer<typeof batchesListSchema>>().toExtend<PageBatchesAnswer>();
  });
});
