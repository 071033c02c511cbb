/**
 * Fails a test that leaves a worker, a Redis connection or a server open: each of them holds
 * a TCP handle, so the number of TCP handles must fall back to what it was before (after a
 * short grace period for sockets that are closing).
 *
 * Checked after every test, and after the whole file. A file that keeps fixtures open across
 * its tests (beforeAll/afterAll) calls {@link sharedFixtures} and is checked after the file only.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';

const TCP = new Set(['TCPWRAP', 'TCPSocketWrap', 'TCPServerWrap', 'TCPSERVERWRAP']);
const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => TCP.has(r)).length;

let perTest = true;
let fileBaseline = 0;
let testBaseline = 0;

/** This file shares open fixtures between its tests: check for leaks after the file only. */
export function sharedFixtures(): void {
  perTest = false;
}

async function expectNoLeak(baseline: number, what: string): Promise<void> {
  let open = tcpHandles();
  for (let waited = 0; open > baseline && waited < 3_000; waited += 50) {
    await sleep(50);
    open = tcpHandles();
  }
  expect(
    open,
    `${what} leaked ${open - baseline} TCP handle(s): a worker, Redis connection or server left open (open sockets: ${openSockets()})`,
  ).toBeLessThanOrEqual(baseline);
}

/** The open TCP sockets, local -> remote port, to tell which connection was left open. */
function openSockets(): string {
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  if (!handles) return '?';
  return handles
    .call(process)
    .filter(
      (h): h is { localPort?: number; remotePort?: number } =>
        typeof h === 'object' && h !== null && 'remotePort' in h,
    )
    .map((s) => `${s.localPort ?? '?'}->${s.remotePort ?? '?'}`)
    .join(' ');
}

beforeAll(() => {
  fileBaseline = tcpHandles();
});
beforeEach(() => {
  testBaseline = tcpHandles();
});
afterEach(async () => {
  if (perTest) await expectNoLeak(testBaseline, 'test');
});
afterAll(async () => {
  await expectNoLeak(fileBaseline, 'test file');
});
