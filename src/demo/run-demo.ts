/**
 * The demo: a simulator with faults and a tight rate limit, a worker, ~200 deactivations
 * (a few of them bad), live progress, then a table of outcomes and the failure events.
 * Everything runs in this process; only Redis is needed. Its keys use a fresh prefix and
 * are removed at the end.
 */
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { type ActionEvent } from '../model.js';
import { openProducer } from '../queue/open-producer.js';
import {
  simAccountId,
  SIM_LOCKED_ID,
  SIM_SHARED_SES_ID,
  startSimulator,
  type SimStats,
} from '../sim/index.js';
import { dropPrefix } from '../store/drop-prefix.js';
import { readRecentEvents } from '../store/events.js';
import { keysFor } from '../store/keys.js';
import { startWorker } from '../worker/worker.js';

export interface DemoOptions {
  /** Base settings (Redis URL, log level); the demo overrides the rest. */
  config: Config;
  logger: Logger;
  /** Good accounts to deactivate (plus 4 bad ids and the shared SES account). @defaultValue 195 */
  accounts?: number;
  out: Writable;
  /** Draw a progress bar (TTY) instead of periodic lines. */
  progressBar?: boolean;
}

export interface DemoResult {
  /** The demo's own key prefix (its keys are removed at the end). */
  prefix: string;
  total: number;
  succeeded: number;
  failed: number;
  failures: ActionEvent[];
  sim: SimStats;
  elapsedMs: number;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const n = options.accounts ?? 195;
  const out = options.out;
  const sim = await startSimulator({
    accounts: n,
    rateLimit: 60,
    rateWindowMs: 5_000,
    faults: {
      error500Rate: 0.05,
      error503Rate: 0.03,
      retryAfter503S: 1,
      dropRate: 0.02,
      hangRate: 0.01,
      latencyMs: 20,
      latencyJitterMs: 40,
    },
  });
  const config: Config = {
    ...options.config,
    prefix: `{sdx-demo-${randomUUID().slice(0, 8)}}`,
    apiKey: 'smx_root_sim_key',
    baseUrl: sim.url,
    rateLimitPerMinute: 1_200,
    concurrency: 10,
    // The simulator allows 60 per 5 s: slow down with about a concurrency's worth left, not
    // at the production default (30, sized for the API's 600 per minute).
    rateLimitLowWatermark: 10,
    timeoutMs: 1_500,
    shutdownTimeoutMs: 5_000,
    backoffBaseMs: 200,
    backoffCapMs: 3_000,
    keepCompletedJobs: 10_000,
  };
  const worker = await startWorker({ config, logger: options.logger });
  const producer = openProducer(config);
  const keys = keysFor(config.prefix);
  try {
    const ids = Array.from({ length: n }, (_, i) => simAccountId(i + 1));
    // Bad ids spread through the batch: two unknown accounts, a deleted one, a locked one.
    const bad = [
      'dprov_doesnotexist1',
      'dprov_doesnotexist2',
      'dprov_deleted_last_week',
      SIM_LOCKED_ID,
    ];
    bad.forEach((id, i) =>
      ids.splice(Math.floor(((i + 1) * ids.length) / (bad.length + 1)), 0, id),
    );
    ids.push(SIM_SHARED_SES_ID);
    out.write(
      `demo: simulator at ${sim.url} (60 req / 5 s, 5% 500s, 3% 503s, 2% drops, 1% hangs); ` +
        `worker concurrency ${config.concurrency}, budget ${config.rateLimitPerMinute}/min\n` +
        `demo: enqueueing ${ids.length} deactivations (4 of them bad ids) under prefix ${config.prefix}\n`,
    );
    const started = Date.now();
    const results = await producer.enqueueMany(
      ids.map((accountId) => ({
        action: 'deactivate' as const,
        accountId,
        idempotencyKey: `demo-${accountId}-${started}`,
        source: 'manual' as const,
        reason: 'demo: bounce spike drill',
      })),
    );
    const bar = options.progressBar
      ? new SingleBar({
          format: 'deactivating [{bar}] {value}/{total} done | {failed} failed | {duration}s',
          stream: out,
          hideCursor: true,
        })
      : undefined;
    bar?.start(results.length, 0, { failed: 0 });
    let lastLine = 0;
    await producer.wait(
      results.map((r) => r.idempotencyKey),
      {
        pollMs: 200,
        onProgress: (p) => {
          if (bar) bar.update(p.succeeded + p.failed, { failed: p.failed });
          else if (Date.now() - lastLine > 2_000) {
            lastLine = Date.now();
            out.write(`progress: ${p.succeeded + p.failed}/${p.total} done, ${p.failed} failed\n`);
          }
        },
      },
    );
    bar?.stop();
    const elapsedMs = Date.now() - started;
    const events = await readRecentEvents(producer.redis, keys, { limit: 100_000 });
    const failures = events.filter((e) => e.type === 'action.failed');
    const stats = sim.stats();
    const result: DemoResult = {
      prefix: config.prefix,
      total: results.length,
      succeeded: events.filter((e) => e.type === 'action.succeeded').length,
      failed: failures.length,
      failures,
      sim: stats,
      elapsedMs,
    };
    out.write(renderSummary(result));
    return result;
  } finally {
    await worker.close(5_000);
    await producer.queue.obliterate({ force: true }).catch(() => undefined);
    await dropPrefix(producer.redis, config.prefix);
    await producer.close();
    await sim.close();
  }
}

function renderSummary(r: DemoResult): string {
  const byCode = new Map<string, number>();
  for (const f of r.failures) {
    const code = `${f.http_status ?? '-'} ${f.error_code ?? '?'}`;
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }
  const lines = [
    '',
    `outcomes after ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  succeeded   ${r.succeeded}`,
    `  failed      ${r.failed}${[...byCode].map(([code, count]) => `   (${count} x ${code})`).join('')}`,
    `  total       ${r.total}`,
    '',
    'what the API saw',
    `  requests ${r.sim.requests}, operations executed ${r.sim.executions.total}, replays ${r.sim.replays}, ` +
      `in-flight 409s ${r.sim.inFlightConflicts}, 429s ${r.sim.rateLimited}`,
    `  injected faults: ${r.sim.faults.error500} x 500, ${r.sim.faults.error503} x 503, ${r.sim.faults.drop} drops, ${r.sim.faults.hang} hangs`,
    '',
    `failure events (${r.failures.length})`,
    ...r.failures.map(
      (f) =>
        `  ${f.at}  ${f.account_id.padEnd(26)} ${String(f.http_status ?? '-')} ${f.error_code ?? ''}  attempts=${f.attempts}  request=${f.request_id ?? '-'}`,
    ),
    '',
  ];
  return lines.join('\n');
}
