/** The real client (got for reads, a plain node:http request for actions) against the simulator over HTTP. */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSendmuxClient,
  deliveryLogItemSchema,
  SendmuxError,
  type SendmuxClient,
} from '../../src/sendmux/index.js';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();
let sim: Simulator;
let client: SendmuxClient;

beforeAll(async () => {
  sim = await startSimulator({ accounts: 23, rateLimit: 1000 });
  client = createSendmuxClient({ baseUrl: sim.url, apiKey: 'smx_root_sim_key', timeoutMs: 500 });
});
afterAll(async () => {
  client.close();
  await sim.close();
});

async function caught(p: Promise<unknown>): Promise<SendmuxError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SendmuxError) return err;
    throw err;
  }
  throw new Error('expected a SendmuxError');
}

describe('Sendmux client', () => {
  it('deactivates and reads back, with request id and rate-limit info', async () => {
    const r = await client.deactivate(simAccountId(1), { idempotencyKey: 'client-1' });
    expect(r.data).toMatchObject({ id: simAccountId(1), status: 'inactive', is_active: false });
    expect(r.requestId).toMatch(/^req_/);
    expect(r.rateLimit).toMatchObject({ limit: 1000 });
    expect(r.rateLimit?.resetAtMs).toBeGreaterThan(Date.now() - 1000);
    const again = await client.deactivate(simAccountId(1), { idempotencyKey: 'client-1' });
    expect(again.requestId).toBe(r.requestId); // replayed verbatim
    expect((await client.getProvider(simAccountId(1))).data.status).toBe('inactive');
  });

  it('lists every account across cursor pages', async () => {
    const ids: string[] = [];
    for await (const item of client.listProviders({ limit: 5 })) ids.push(item.id);
    expect(ids).toHaveLength(25); // 23 seeded + shared SES + locked
    expect(new Set(ids).size).toBe(25);
    const smtp: string[] = [];
    for await (const item of client.listProviders({ type: 'gmail_api' })) smtp.push(item.type);
    expect(smtp.length).toBeGreaterThan(0);
    expect(smtp.every((t) => t === 'gmail_api')).toBe(true);
  });

  it('turns an API error into one SendmuxError with status, code, retryable and request id', async () => {
    const err = await caught(client.deactivate('dprov_missing', { idempotencyKey: 'client-404' }));
    expect(err).toMatchObject({
      status: 404,
      code: 'not_found',
      apiRetryable: false,
      retryable: false,
      kind: 'permanent',
    });
    expect(err.requestId).toMatch(/^req_/);
  });

  it('401 with a wrong key is an auth failure (not retryable as is), and the key is not in the error', async () => {
    const bad = createSendmuxClient({ baseUrl: sim.url, apiKey: 'smx_root_WRONG_secret' });
    try {
      const err = await caught(bad.getProvider(simAccountId(2)));
      expect(err).toMatchObject({
        status: 401,
        code: 'authentication_required',
        kind: 'auth',
        retryable: false,
      });
      expect(JSON.stringify(err)).not.toContain('WRONG_secret');
      expect(String(err.stack)).not.toContain('WRONG_secret');
    } finally {
      bad.close();
    }
  });

  it('carries Retry-After on 503 and 429', async () => {
    sim.script(simAccountId(3), [
      { kind: 'status', status: 503, retryAfterS: 7 },
      { kind: 'status', status: 429, retryAfterS: 3 },
    ]);
    const e503 = await caught(client.deactivate(simAccountId(3), { idempotencyKey: 'client-503' }));
    expect(e503).toMatchObject({ status: 503, kind: 'transient', retryAfterMs: 7000 });
    const e429 = await caught(client.deactivate(simAccountId(3), { idempotencyKey: 'client-503' }));
    expect(e429.kind).toBe('rate_limited');
    expect(e429.retryAfterMs).toBeGreaterThanOrEqual(3000);
  });

  it('classifies timeouts and resets as transient network failures', async () => {
    sim.script(simAccountId(4), [{ kind: 'hang' }, { kind: 'drop' }]);
    const timeout = await caught(
      client.deactivate(simAccountId(4), { idempotencyKey: 'client-t' }),
    );
    expect(timeout).toMatchObject({ status: null, code: 'timeout', kind: 'transient' });
    const reset = await caught(client.deactivate(simAccountId(4), { idempotencyKey: 'client-t' }));
    expect(reset).toMatchObject({ status: null, code: 'network_error', kind: 'transient' });
  });

  it('a connection refused is transient too', async () => {
    const nowhere = createSendmuxClient({ baseUrl: 'http://127.0.0.1:9/api/v1', apiKey: 'k' });
    try {
      expect(await caught(nowhere.getProvider('dprov_x'))).toMatchObject({
        code: 'network_error',
        kind: 'transient',
      });
    } finally {
      nowhere.close();
    }
  });

  it('an action to a closed port is transient too', async () => {
    const nowhere = createSendmuxClient({ baseUrl: 'http://127.0.0.1:9/api/v1', apiKey: 'k' });
    try {
      const err = await caught(nowhere.deactivate('dprov_x', { idempotencyKey: 'refused' }));
      expect(err).toMatchObject({ status: null, code: 'network_error', kind: 'transient' });
      expect(err.message).toContain('ECONNREFUSED');
    } finally {
      nowhere.close();
    }
  });

  it('an aborted action ends at once as a network error, without waiting for the answer', async () => {
    sim.script(simAccountId(5), [{ kind: 'hang' }]);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => {
      controller.abort();
    }, 50);
    const slow = createSendmuxClient({
      baseUrl: sim.url,
      apiKey: 'smx_root_sim_key',
      timeoutMs: 5000,
    });
    try {
      const err = await caught(
        slow.deactivate(simAccountId(5), {
          idempotencyKey: 'client-abort',
          signal: controller.signal,
        }),
      );
      expect(err).toMatchObject({
        status: null,
        code: 'network_error',
        message: 'request aborted',
      });
      expect(Date.now() - started).toBeLessThan(4000);
      // Already aborted: refused before anything is sent.
      const before = await caught(
        slow.deactivate(simAccountId(5), {
          idempotencyKey: 'client-abort',
          signal: controller.signal,
        }),
      );
      expect(before.message).toBe('request aborted');
    } finally {
      slow.close();
    }
  });

  it('finds a delivery log by message id (one GET /emails/logs, after beforeRequest)', async () => {
    const messageId = '<0100018f-client@email.amazonses.com>';
    sim.addDeliveryLogs([
      { provider_id: simAccountId(6), message_id: '<other@sim>' },
      { provider_id: simAccountId(7), message_id: messageId, status: 'failed' },
      { provider_id: simAccountId(8), message_id: `${messageId}.resent`, to_email: null },
    ]);
    const seen: number[] = [];
    const before = sim.stats().requests;
    const logs = await client.searchDeliveryLogs(messageId, {
      beforeRequest: () => {
        seen.push(sim.stats().requests);
        return Promise.resolve();
      },
    });
    expect(seen).toEqual([before]); // ran once, before the request
    expect(sim.stats().requests).toBe(before + 1);
    // Substring search, newest first: the caller picks the exact message id.
    expect(logs.map((l) => [l.message_id, l.provider_id])).toEqual([
      [`${messageId}.resent`, simAccountId(8)],
      [messageId, simAccountId(7)],
    ]);
    expect(logs.find((l) => l.message_id === messageId)).toMatchObject({
      id: expect.stringMatching(/^dlog_/) as string,
      provider_name: sim.account(simAccountId(7))?.name,
      status: 'failed',
    });
    expect(await client.searchDeliveryLogs(messageId, { limit: 1 })).toHaveLength(1);
    expect(await client.searchDeliveryLogs('<never-sent@sim>')).toEqual([]);
  });

  it('turns an API error on a log search into the same SendmuxError as other reads', async () => {
    const err = await caught(client.searchDeliveryLogs('x', { limit: 0 }));
    expect(err).toMatchObject({
      status: 400,
      code: 'invalid_parameter',
      param: 'limit',
      apiRetryable: false,
      kind: 'permanent',
    });
    expect(err.requestId).toMatch(/^req_/);
    const bad = createSendmuxClient({ baseUrl: sim.url, apiKey: 'smx_root_WRONG_secret' });
    try {
      expect(await caught(bad.searchDeliveryLogs('x'))).toMatchObject({
        status: 401,
        code: 'authentication_required',
        kind: 'auth',
      });
    } finally {
      bad.close();
    }
    const limited = await startSimulator({ accounts: 1, rateLimit: 1 });
    const c = createSendmuxClient({ baseUrl: limited.url, apiKey: 'smx_root_sim_key' });
    try {
      await c.searchDeliveryLogs('x');
      const e429 = await caught(c.searchDeliveryLogs('x'));
      expect(e429).toMatchObject({ status: 429, kind: 'rate_limited' });
      expect(e429.retryAfterMs).toBeGreaterThan(0);
    } finally {
      c.close();
      await limited.close();
    }
  });

  it('reads delivery logs with the exact fields of the OpenAPI DeliveryLogItem', () => {
    const spec = JSON.parse(
      readFileSync(new URL('../../spec/sendmux/openapi-management.json', import.meta.url), 'utf8'),
    ) as {
      components: {
        schemas: Record<
          string,
          { properties: Record<string, { type?: string | string[] }>; required: string[] }
        >;
      };
    };
    const item = spec.components.schemas.DeliveryLogItem;
    const fields = Object.keys(deliveryLogItemSchema.shape).sort();
    expect(fields).toEqual(Object.keys(item?.properties ?? {}).sort());
    expect(item?.required.slice().sort()).toEqual(fields);
    for (const [field, def] of Object.entries(item?.properties ?? {})) {
      const nullable = Array.isArray(def.type) && def.type.includes('null');
      const zodField =
        deliveryLogItemSchema.shape[field as keyof typeof deliveryLogItemSchema.shape];
      expect(zodField.safeParse(null).success, field).toBe(nullable);
    }
  });

  it('reads (got) time out and get cut off the same way actions do', async () => {
    // A server that answers GETs never, or with half a body: the simulator's faults are for actions.
    const server = http.createServer((req, res) => {
      if (req.url?.includes('/cut')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"data":');
        setTimeout(() => res.socket?.destroy(), 20);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const c = createSendmuxClient({
      baseUrl: `http://127.0.0.1:${port}/api/v1`,
      apiKey: 'k',
      timeoutMs: 300,
    });
    try {
      expect(await caught(c.getProvider('dprov_hang'))).toMatchObject({
        status: null,
        code: 'timeout',
        kind: 'transient',
      });
      expect(await caught(c.getProvider('cut'))).toMatchObject({
        status: null,
        code: 'network_error',
        kind: 'transient',
      });
      expect(await caught(c.searchDeliveryLogs('hang'))).toMatchObject({
        status: null,
        code: 'timeout',
        kind: 'transient',
      });
      expect(await caught(c.deactivate('cut', { idempotencyKey: 'cut' }))).toMatchObject({
        status: null,
        code: 'network_error',
      });
    } finally {
      c.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
