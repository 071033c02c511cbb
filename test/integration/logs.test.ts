/** Secrets never reach logs or events, and every job line carries its identifiers. */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { simAccountId } from '../../src/sim/index.js';
import { startWorker } from '../../src/worker/worker.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

function capture() {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw += chunk.toString();
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, raw: () => raw, logger: createLogger({ level: 'debug', destination: stream }) };
}

describe('logs', () => {
  it('job lines carry job id, account id, key, attempt and request id; the API key never appears', async () => {
    const secret = 'smx_root_sim_key';
    p = await startPipeline({ workers: 0 });
    const out = capture();
    const w = await startWorker({ config: p.config, logger: out.logger });
    try {
      p.sim.script(simAccountId(1), [{ kind: 'status', status: 500 }]);
      await p.producer.enqueueMany([
        {
          action: 'deactivate',
          accountId: simAccountId(1),
          idempotencyKey: 'log-1',
          source: 'manual',
        },
        {
          action: 'deactivate',
          accountId: 'dprov_nope',
          idempotencyKey: 'log-2',
          source: 'manual',
        },
      ]);
      await p.waitFor(['log-1', 'log-2']);
    } finally {
      await w.close();
    }
    const jobLines = out.lines.filter((l) => l.job_id !== undefined);
    expect(jobLines.length).toBeGreaterThanOrEqual(3); // retry warning, success, failure
    for (const l of jobLines) {
      expect(typeof l.account_id).toBe('string');
      expect(typeof l.idempotency_key).toBe('string');
      expect(typeof l.attempt).toBe('number');
      expect(l.request_id).toMatch(/^req_/);
    }
    expect(jobLines.find((l) => l.idempotency_key === 'log-1' && l.attempt === 2)?.msg).toBe(
      'deactivate succeeded',
    );
    expect(out.raw()).not.toContain(secret);
    const events = JSON.stringify(await p.events());
    expect(events).not.toContain(secret);
  });

  it('redacts credentials wherever they are logged', () => {
    const out = capture();
    out.logger.info(
      {
        headers: { authorization: 'Bearer smx_root_abc' },
        apiKey: 'smx_root_def',
        config: { apiKey: 'smx_root_ghi' },
      },
      'x',
    );
    expect(out.raw()).not.toMatch(/smx_root_(abc|def|ghi)/);
    expect(out.raw()).toContain('[redacted]');
  });
});
