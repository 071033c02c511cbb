/**
 * A failure that is not an API answer (a bug, a broken dependency) still ends in exactly one
 * `action.failed` event once attempts are exhausted, recorded by the worker's failure backstop.
 * The client is the real one, wrapped so one account's calls throw a plain TypeError.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createSendmuxClient, type SendmuxClient } from '../../src/sendmux/index.js';
import { simAccountId } from '../../src/sim/index.js';
import { startWorker } from '../../src/worker/worker.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

describe('failure backstop', () => {
  it('records one failed event for an unexpected error after the last attempt', async () => {
    p = await startPipeline({ workers: 0, config: { maxAttempts: 2 } });
    const real = createSendmuxClient({ baseUrl: p.sim.url, apiKey: 'smx_root_sim_key' });
    const broken = simAccountId(3);
    const client: SendmuxClient = {
      ...real,
      runAction: (action, id, opts) => {
        if (id === broken) return Promise.reject(new TypeError('boom: a bug, not an API answer'));
        return real.runAction(action, id, opts);
      },
    };
    const w = await startWorker({
      config: p.config,
      logger: createLogger({ level: 'silent', pretty: false }),
      client,
    });
    try {
      const [bug] = await p.producer.enqueueMany([
        { action: 'deactivate', accountId: broken, idempotencyKey: 'bug-1', source: 'manual' },
        {
          action: 'deactivate',
          accountId: simAccountId(4),
          idempotencyKey: 'fine-1',
          source: 'manual',
        },
      ]);
      await p.waitFor(['bug-1', 'fine-1']);
      const failed = await p.events('action.failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({
        idempotency_key: 'bug-1',
        error_code: 'worker_error',
        error_message: 'boom: a bug, not an API answer',
        http_status: null,
        attempts: 2,
      });
      expect(await p.events('action.succeeded')).toHaveLength(1);
      const job = await p.producer.queue.getJob(bug?.jobId ?? '');
      expect(await job?.getState()).toBe('failed');
    } finally {
      await w.close();
      real.close();
    }
  });
});
