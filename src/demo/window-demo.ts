/**
 * The maintenance-window demo (`demo --windows`): "these 50 accounts off from 02:00 to 04:00
 * Europe/Berlin every Sunday", shown on a clock of seconds against the simulator. One account
 * is switched off at the API before the window and one is held by a breaker trip; the demo
 * follows the window's events over two occurrences, cancels it, and checks that every other
 * account went off and on once per occurrence while those two stayed off. Everything runs in
 * this process; its keys use a fresh prefix and are removed at the end.
 */
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { WindowEndedEvent, WindowStartedEvent } from '../model.js';
import { openBreaker, type BreakerHandle } from '../ops/breaker.js';
import { startWindowService, type WindowService } from '../ops/window-service.js';
import { openWindows, type WindowsHandle } from '../ops/windows.js';
import { openProducer, type ProducerHandle } from '../queue/open-producer.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { createRedis } from '../redis/connect.js';
import { simAccountId, startSimulator, type Simulator } from '../sim/index.js';
import { dropPrefix } from '../store/drop-prefix.js';
import { followEvents } from '../store/events.js';
import { keysFor } from '../store/keys.js';
import { startWorker, type ActionWorker } from '../worker/worker.js';
import {
  checkWindowDemo,
  eventLine,
  realThing,
  renderTable,
  zoned,
  type AccountRole,
  type AccountRow,
} from './window-demo-report.js';

export interface WindowDemoOptions {
  /** Base settings (Redis URL, log level); the demo overrides the rest. */
  config: Config;
  logger: Logger;
  out: Writable;
  /** Accounts in the window (at least 3). @defaultValue 50 */
  accounts?: number;
  /** The demo window starts every this many seconds (a divisor of 60). @defaultValue 10 */
  everyS?: number;
  /** ...and lasts this many seconds. @defaultValue 4 */
  durationS?: number;
  /** Occurrences to watch before cancelling. @defaultValue 2 */
  occurrences?: number;
}

export interface WindowDemoResult {
  /** 0 when everything matched the expectations, else 1 (`problems` says what differed). */
  exitCode: 0 | 1;
  problems: string[];
  /** The demo's own key prefix (its keys are removed at the end). */
  prefix: string;
  windowId: string;
  started: WindowStartedEvent[];
  ended: WindowEndedEvent[];
  /** Switched off at the API before the window. */
  offBefore: string;
  /** Tripped by the breaker before the window. */
  held: string;
  rows: AccountRow[];
  elapsedMs: number;
}

const TZ = 'Europe/Berlin';
const API_KEY = 'smx_root_sim_key';
/**
 * The API allows 600 calls a minute: the real 50 accounts take ~10 s to read and switch off,
 * nothing beside 2 h but more than a 4 s window. The demo's clock is ten times faster.
 */
const RATE_PER_MINUTE = 6_000;

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

export async function runWindowDemo(options: WindowDemoOptions): Promise<WindowDemoResult> {
  const n = options.accounts ?? 50;
  const everyS = options.everyS ?? 10;
  const durationS = options.durationS ?? 4;
  const occurrences = options.occurrences ?? 2;
  if (n < 3) throw new RangeError('the windows demo needs at least 3 accounts');
  const out = options.out;
  const begun = Date.now();
  const config: Config = {
    ...options.config,
    prefix: `{sdx-wdemo-${randomUUID().slice(0, 8)}}`,
    apiKey: API_KEY,
    rateLimitPerMinute: RATE_PER_MINUTE,
    windowConcurrency: 2,
  };
  // Every 22nd seeded account is an Outlook one without a refresh token: activated, it comes
  // back `pending` (reconnect required), not `active`. The demo leaves those out.
  const seeded = Array.from({ length: n + Math.floor(n / 21) }, (_, i) => i + 1);
  const ids = seeded.filter((i) => i % 22 !== 0).map(simAccountId);
  const offBefore = ids[Math.min(6, n - 2)] as string;
  const held = ids[Math.min(12, n - 1)] as string;
  let sim: Simulator | undefined;
  let worker: ActionWorker | undefined;
  let service: WindowService | undefined;
  let producer: ProducerHandle | undefined;
  let admin: WindowsHandle | undefined;
  let breaker: BreakerHandle | undefined;
  let tail: Redis | undefined;
  try {
    sim = await startSimulator({ accounts: seeded.length, rateLimit: RATE_PER_MINUTE });
    const simulator = sim;
    const c: Config = { ...config, baseUrl: sim.url };
    producer = openProducer(c);
    admin = openWindows(c);
    breaker = openBreaker(c);
    tail = createRedis(c, { maxRetriesPerRequest: 3 });
    worker = await startWorker({ config: c, logger: options.logger });
    service = await startWindowService(c, options.logger, { concurrency: 2 });
    out.write(
      `demo: simulator at ${sim.url}, a worker running window steps, prefix ${c.prefix}\n` +
        `demo: rate budget ${RATE_PER_MINUTE}/min (the real API's 600/min would take ~${Math.ceil(n / 5)} s ` +
        `to read and switch off ${n} accounts: too long for a window of seconds)\n\n` +
        realThing(ids, TZ),
    );

    // Before the window: one account off for another reason, one held by the breaker.
    const res = await fetch(`${sim.url}/providers/${offBefore}/deactivate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    if (!res.ok) throw new Error(`switching ${offBefore} off at the simulator: HTTP ${res.status}`);
    await breaker.trip(held, 'demo: bounce spike');
    if (!(await until(() => simulator.account(held)?.status === 'inactive', 10_000))) {
      throw new Error(`the breaker trip did not switch ${held} off within 10 s`);
    }
    out.write(
      `before the window: ${offBefore} switched off at the API by someone else (it must stay off),\n` +
        `                   ${held} tripped by the breaker (it must stay held)\n\n`,
    );

    // The same window on a clock of seconds, followed on the events stream.
    const keys = keysFor(c.prefix);
    const after = (await tail.xrevrange(keys.events, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
    const window = await admin.create({
      accounts: ids,
      cron: `*/${everyS} * * * * *`,
      duration: `${durationS}s`,
      tz: TZ,
      reason: 'demo: SMTP host migration',
    });
    const first = Date.parse(window.next_starts[0] ?? '') || Date.now();
    out.write(
      `the demo's window ${window.id}: --cron "*/${everyS} * * * * *" --duration ${durationS}s --tz ${TZ}\n` +
        `  first start ${zoned(first, TZ, true)}; watching ${occurrences} occurrences\n`,
    );
    const started: WindowStartedEvent[] = [];
    const ended: WindowEndedEvent[] = [];
    const timeout = first - Date.now() + (occurrences * everyS + durationS + 15) * 1000;
    const signal = AbortSignal.timeout(timeout);
    for await (const e of followEvents(tail, keys, { after, blockMs: 500, signal })) {
      if (!('window_id' in e) || e.window_id !== window.id) continue;
      if (e.type === 'window.started') started.push(e);
      else if (e.type === 'window.ended') ended.push(e);
      else continue;
      out.write(`${eventLine(e, TZ)}\n`);
      if (ended.length >= occurrences) break;
    }
    const cancelled = await admin.cancel(window.id);
    out.write(`window ${window.id} cancelled (${cancelled.was}: nothing more starts)\n`);

    // Let the last reactivations land (or time out), then read the simulator.
    const calls = (id: string) =>
      simulator.stats().executions.byAccount[id] ?? { activate: 0, deactivate: 0 };
    const normal = ids.filter((id) => id !== offBefore && id !== held);
    await until(
      () =>
        normal.every(
          (id) => simulator.account(id)?.status === 'active' && calls(id).activate >= ended.length,
        ),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 300)); // a wrong reactivation would show by now
    const role = (id: string): AccountRole =>
      id === offBefore ? 'off_before' : id === held ? 'breaker' : 'normal';
    const rows: AccountRow[] = ids.map((id) => ({
      id,
      role: role(id),
      status: simulator.account(id)?.status ?? 'unknown',
      ...calls(id),
    }));
    const facts = { occurrences, started, ended, rows };
    out.write(renderTable(facts));
    const problems = checkWindowDemo(facts);
    out.write(
      problems.length === 0
        ? 'all as expected: each other account off and on once per occurrence; the two stayed off\n'
        : `NOT as expected:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
    return {
      exitCode: problems.length === 0 ? 0 : 1,
      problems,
      prefix: c.prefix,
      windowId: window.id,
      started,
      ended,
      offBefore,
      held,
      rows,
      elapsedMs: Date.now() - begun,
    };
  } finally {
    await service?.close().catch(() => undefined);
    await worker?.close(5_000).catch(() => undefined);
    await admin?.queue.obliterate({ force: true }).catch(() => undefined);
    await producer?.queue.obliterate({ force: true }).catch(() => undefined);
    if (producer) await dropPrefix(producer.redis, config.prefix).catch(() => undefined);
    await admin?.close();
    await breaker?.close();
    await producer?.close();
    if (tail && tail.status !== 'end') await tail.quit().catch(() => undefined);
    await sim?.close();
  }
}
