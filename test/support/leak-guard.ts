/**
 * Fails a test that leaves a worker, a Redis connection or a server open: every one of them
 * is a TCP handle, so the count of TCP handles after a test must fall back to what it was
 * before it (allowing a short grace period for sockets that are closing).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect } from 'vitest';

const TCP = new Set(['TCPWRAP', 'TCPSocketWrap', 'TCPServerWrap', 'TCPSERVERWRAP']);
const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => TCP.has(r)).length;

let baseline = 0;

beforeEach(() => {
  baseline = tcpHandles();
});

afterEach(async () => {
  let open = tcpHandles();
  for (let waited = 0; open > baseline && waited < 3_000; waited += 50) {
    await sleep(50);
    open = tcpHandles();
  }
  expect(open, `test leaked ${open - baseline} TCP handle(s): a worker, Redis connection or server left open`).toBeLessThanOrEqual(baseline);
});
