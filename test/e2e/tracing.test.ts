/**
 * Tracing, switched on by the standard OTEL_* variables alone: the real `worker` process, given
 * an OTLP/HTTP JSON endpoint (a receiver in this test), exports the API call's span (a child of
 * BullMQ's `process actions` span) with its method, status, route template, account and
 * request id, and never the API key. Without OTEL_* nothing is exported and the SDK is not
 * even loaded.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openProducer, type ProducerHandle } from '../../src/queue/open-producer.js';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';
import { startTracing, tracingRequested, tracingSdkLoaded } from '../../src/telemetry/tracing.js';
import { killAll, spawnCli, type CliProcess } from '../support/cli-process.js';
import { dropPrefix, testConfig, waitFor } from '../support/context.js';

const API_KEY = 'smx_root_sim_key';

let sim: Simulator | undefined;
let producer: ProducerHandle | undefined;
let config: Config | undefined;
let receiver: Server | undefined;
const children: CliProcess[] = [];

afterEach(async () => {
  await killAll(children);
  await producer?.close();
  await sim?.close();
  if (receiver) {
    receiver.closeAllConnections();
    await new Promise((r) => receiver?.close(r));
  }
  if (config) await dropPrefix(config.prefix);
  sim = producer = config = receiver = undefined;
});

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
}

/** An OTLP/HTTP JSON receiver: POST /v1/traces bodies, kept raw and as spans. */
async function startReceiver() {
  const bodies: string[] = [];
  const paths: string[] = [];
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      paths.push(`${req.method ?? ''} ${req.url ?? ''}`);
      if (req.method === 'POST' && req.url === '/v1/traces') bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const { port } = receiver.address() as AddressInfo;
  const spans = () =>
    bodies.flatMap((b) => {
      const doc = JSON.parse(b) as {
        resourceSpans: {
          resource?: { attributes?: { key: string; value: Record<string, unknown> }[] };
          scopeSpans: { scope?: { name?: string }; spans: OtlpSpan[] }[];
        }[];
      };
      return doc.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) =>
          ss.spans.map((s) => ({ ...s, scope: ss.scope?.name, resource: rs.resource })),
        ),
      );
    });
  return { url: `http://127.0.0.1:${port}`, bodies, paths, spans };
}

const attr = (span: OtlpSpan, key: string): unknown => {
  const v = span.attributes?.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : Object.values(v)[0];
};

async function setup() {
  sim = await startSimulator({ accounts: 5, rateLimit: 0 });
  config = testConfig({ baseUrl: sim.url, apiKey: API_KEY });
  producer = openProducer(config);
  return {
    REDIS_URL: config.redisUrl,
    QUEUE_PREFIX: config.prefix,
    SENDMUX_BASE_URL: sim.url,
    SENDMUX_API_KEY: API_KEY,
    SENDMUX_RATE_LIMIT: '0',
    WINDOW_CONCURRENCY: '0',
  };
}

/** Variables that would switch tracing on, emptied (empty means unset). */
const NO_OTEL = {
  OTEL_TRACES_EXPORTER: '',
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
};

describe('tracing', () => {
  it('exports the API call and BullMQ spans over OTLP/HTTP JSON, without the API key', async () => {
    const env = await setup();
    const otlp = await startReceiver();
    const worker = spawnCli(['worker'], {
      ...env,
      ...NO_OTEL,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    children.push(worker);
    await worker.waitForOutput(/tracing on/);
    await worker.waitForOutput(/worker started/);
    const account = simAccountId(1);
    await producer?.enqueue({
      action: 'deactivate',
      accountId: account,
      idempotencyKey: 'trace-1',
      source: 'manual',
      reason: 'e2e tracing',
    });
    const name = 'sendmux POST /providers/{id}/deactivate';
    const call = await waitFor(
      () => otlp.spans().find((s) => s.name === name),
      20_000,
      `a "${name}" span`,
    );
    expect(call.kind).toBe(3); // CLIENT (OTLP's enum: INTERNAL 1, SERVER 2, CLIENT 3)
    expect(attr(call, 'http.request.method')).toBe('POST');
    expect(Number(attr(call, 'http.response.status_code'))).toBe(200);
    expect(attr(call, 'url.template')).toBe('/providers/{id}/deactivate');
    expect(attr(call, 'sendmux.account')).toBe(account);
    expect(attr(call, 'sendmux.request_id')).toMatch(/\S/);
    expect(call.scope).toBe('sendmux-deactivator');
    const service = call.resource?.attributes?.find((a) => a.key === 'service.name')?.value;
    expect(service).toEqual({ stringValue: 'sendmux-deactivator' });
    // BullMQ's span of the job's run, the call's parent.
    const run = await waitFor(
      () =>
        otlp.spans().find((s) => s.name === 'process actions' && s.spanId === call.parentSpanId),
      10_000,
      'the "process actions" span that is the call\'s parent',
    );
    expect(run.traceId).toBe(call.traceId);
    expect(attr(run, 'bullmq.queue.name')).toBe('actions');
    expect(otlp.paths.every((p) => p === 'POST /v1/traces')).toBe(true);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const all = otlp.bodies.join('\n');
    expect(all).not.toContain(API_KEY);
    expect(all.toLowerCase()).not.toContain('authorization');
    expect(all).not.toContain('idempotency-key');
  });

  it('is off without OTEL_* variables: no export, and the worker says so', async () => {
    const env = await setup();
    const otlp = await startReceiver();
    const worker = spawnCli(['worker'], { ...env, ...NO_OTEL, LOG_LEVEL: 'debug' });
    children.push(worker);
    await worker.waitForOutput(/worker started/);
    await producer?.enqueue({
      action: 'deactivate',
      accountId: simAccountId(2),
      idempotencyKey: 'no-trace-1',
      source: 'manual',
      reason: 'e2e tracing off',
    });
    await waitFor(() => (sim && sim.stats().requests >= 1 ? true : undefined), 10_000, 'a call');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toMatch(/tracing off/);
    expect(worker.output()).not.toMatch(/tracing on/);
    expect(otlp.paths).toEqual([]);
  });

  it('loads no SDK module when off (in this process)', async () => {
    expect(tracingRequested({})).toBe(false);
    const t = await startTracing(createLogger({ level: 'silent', pretty: false }));
    expect(t.enabled).toBe(false);
    expect(tracingSdkLoaded()).toBe(false);
    await t.shutdown();
  });

  it('follows the OTEL_* rule', () => {
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(true);
    expect(
      tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }),
    ).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(
      tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' }),
    ).toBe(false);
    expect(
      tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' }),
    ).toBe(false);
    expect(tracingRequested({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe(
      false,
    );
  });
});
