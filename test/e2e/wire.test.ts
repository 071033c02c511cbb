/**
 * One wire format (issue 19 §1): the same thing has the same shape on the CLI (`--json`, a real
 * process) and over HTTP, checked against one schema of src/wire; and every JSON answer of the
 * HTTP API in one scenario, and every CLI `--json` output, has snake_case keys only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Config } from '../../src/config.js';
import { buildServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { startBreakerService, type BreakerService } from '../../src/ops/breaker-service.js';
import { openWindows, type WindowsHandle } from '../../src/ops/windows.js';
import { simAccountId } from '../../src/sim/index.js';
import {
  heldAccountSchema,
  accountSchema,
  accountsListSchema,
  actionReportSchema,
  actionsAnswerSchema,
  batchSchema,
  batchesListSchema,
  breakerSchema,
  breakersListSchema,
  bulkRunSchema,
  dryRunSchema,
  errorSchema,
  eventSchema,
  eventsListSchema,
  holdsListSchema,
  nonSnakeKeys,
  okSchema,
  whoamiSchema,
  overviewSchema,
  readinessSchema,
  resetSchema,
  tripSchema,
  webhookStatsSchema,
  windowSchema,
  windowsListSchema,
} from '../../src/wire/index.js';
import { runCli } from '../support/cli-process.js';
import { waitFor } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

sharedFixtures();

const ADMIN = 'admin-token-wire-format-012345';
const auth = { authorization: `Bearer ${ADMIN}` };
const id = (n: number) => simAccountId(n);

let p: Pipeline;
let service: BreakerService;
let windows: WindowsHandle;
let app: HttpServer;
let env: Record<string, string>;
/** Every JSON answer of the HTTP API in the scenario, and every CLI `--json` output. */
const seen: { what: string; body: unknown }[] = [];

beforeAll(async () => {
  p = await startPipeline({ workers: 1, sim: { accounts: 20 } });
  const config: Config = { ...p.config, adminToken: ADMIN };
  const logger = createLogger({ level: 'silent', pretty: false });
  service = await startBreakerService(config, logger, { tickMs: 100 });
  windows = openWindows(config);
  app = await buildServer({ config, redis: p.redis, logger, breaker: service, windows });
  env = {
    REDIS_URL: config.redisUrl,
    QUEUE_PREFIX: config.prefix,
    LOG_LEVEL: 'silent',
    SENDMUX_BASE_URL: config.baseUrl,
    SENDMUX_API_KEY: config.apiKey ?? '',
  };
});

afterAll(async () => {
  await app.close();
  await windows.close();
  await service.close();
  await p.stop();
});

/** An HTTP answer's JSON, parsed by `schema` (strict: no field more, none less). */
async function http<S extends z.ZodType>(
  schema: S,
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
): Promise<z.output<S>> {
  const res = await app.inject({
    method,
    url,
    headers: auth,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  const body: unknown = res.json();
  seen.push({ what: `${method} ${url} (${res.statusCode})`, body });
  return schema.parse(body);
}

/** A CLI command's `--json` output (`lines`: one JSON value per line), parsed by `schema`. */
async function cli<S extends z.ZodType>(
  schema: S,
  args: readonly string[],
  lines = false,
): Promise<z.output<S>> {
  const r = await runCli(args, env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  const body: unknown = lines
    ? r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown)
    : JSON.parse(r.stdout);
  seen.push({ what: `cli ${args.join(' ')}`, body });
  return schema.parse(body);
}

const listOf = <S extends z.ZodType>(s: S) => z.array(s);

describe('one wire format', () => {
  it('each CLI/HTTP pair has one shape; every answer has snake_case keys only', async () => {
    // Actions: `deactivate --json` prints the reports POST /v1/actions answers.
    const byHttp = await http(actionsAnswerSchema, 'POST', '/v1/actions', {
      action: 'deactivate',
      accounts: [id(1)],
    });
    const byCli = await cli(listOf(actionReportSchema), ['deactivate', id(2), '--wait', '--json']);
    expect(byCli[0]).toMatchObject({ account_id: id(2), state: 'succeeded' });
    await p.waitFor(byHttp.reports.map((r) => r.idempotency_key));

    // Status: `status --json` and GET /v1/accounts/:account; holds: `holds --json` and
    // GET /v1/holds/:account. The same account, the same object.
    const [statusCli] = await cli(listOf(accountSchema), ['status', id(1), '--json']);
    expect(statusCli).toEqual(await http(accountSchema, 'GET', `/v1/accounts/${id(1)}`));
    expect(statusCli).toMatchObject({ account_id: id(1), holds: [{ id: 'manual' }] });
    await http(accountsListSchema, 'GET', '/v1/accounts');
    const [holdsCli] = await cli(listOf(heldAccountSchema), ['holds', id(1), '--json']);
    expect(holdsCli).toEqual(await http(heldAccountSchema, 'GET', `/v1/holds/${id(1)}`));
    const allHolds = await cli(listOf(heldAccountSchema), ['holds', '--json']);
    expect((await http(holdsListSchema, 'GET', '/v1/holds')).accounts).toEqual(allHolds);

    // Bulk: `bulk --json` and POST /v1/batches answer one shape; batch status and list too.
    const runCliBulk = await cli(bulkRunSchema, [
      'bulk',
      '--ids',
      `${id(3)},${id(4)}`,
      '--batch-id',
      'wire-cli',
      '--include-shared',
      '--wait',
      '--json',
    ]);
    expect(runCliBulk).toMatchObject({
      batch_id: 'wire-cli',
      pass: { enqueued: 2 },
      batch: { total: 2, succeeded: 2 },
      done: true,
    });
    const runHttpBulk = await http(bulkRunSchema, 'POST', '/v1/batches', {
      ids: [id(5)],
      batch_id: 'wire-http',
      include_shared: true,
    });
    expect(runHttpBulk).toMatchObject({ batch_id: 'wire-http', pass: { enqueued: 1 } });
    await waitFor(async () => {
      const b = await http(batchSchema, 'GET', '/v1/batches/wire-http');
      return b.finished_at === null ? undefined : b;
    });
    const statusOf = await cli(batchSchema, ['batch', 'status', 'wire-http', '--json']);
    expect(statusOf).toEqual(await http(batchSchema, 'GET', '/v1/batches/wire-http'));
    const listed = await cli(listOf(batchSchema), ['batch', 'list', '--json']);
    expect((await http(batchesListSchema, 'GET', '/v1/batches')).batches).toEqual(listed);
    const dryCli = await cli(dryRunSchema, [
      'bulk',
      '--ids',
      id(6),
      '--batch-id',
      'wire-dry',
      '--dry-run',
      '--json',
    ]);
    const dryHttp = await http(dryRunSchema, 'POST', '/v1/batches', {
      ids: [id(6)],
      batch_id: 'wire-dry',
      dry_run: true,
    });
    expect(dryCli).toEqual({ ...dryHttp, input: dryCli.input });

    // Breaker: a trip and a reset on the CLI and over HTTP; the status of one account.
    const tripCli = await cli(tripSchema, ['breaker', 'trip', id(7), '--json']);
    const tripHttp = await http(tripSchema, 'POST', `/v1/breakers/${id(8)}/trip`, {});
    expect([tripCli.result, tripHttp.result]).toEqual(['tripped', 'tripped']);
    expect(await cli(breakerSchema, ['breaker', 'status', id(7), '--json'])).toEqual(
      await http(breakerSchema, 'GET', `/v1/breakers/${id(7)}`),
    );
    const allBreakers = await cli(listOf(breakerSchema), ['breaker', 'status', '--json']);
    expect((await http(breakersListSchema, 'GET', '/v1/breakers')).accounts).toEqual(allBreakers);
    const resetCli = await cli(resetSchema, ['breaker', 'reset', id(7), '--json']);
    const resetHttp = await http(resetSchema, 'POST', `/v1/breakers/${id(8)}/reset`);
    expect([resetCli.result, resetHttp.result]).toEqual(['reset', 'reset']);

    // Windows: created over HTTP, shown and listed both ways.
    const day = 86_400_000;
    await http(windowSchema, 'POST', '/v1/windows', {
      id: 'wire-w',
      accounts: [id(9)],
      start: new Date(Date.now() + day).toISOString(),
      end: new Date(Date.now() + day + 3_600_000).toISOString(),
    });
    expect(await cli(windowSchema, ['window', 'show', 'wire-w', '--json'])).toEqual(
      await http(windowSchema, 'GET', '/v1/windows/wire-w'),
    );
    const windowsCli = await cli(listOf(windowSchema), ['window', 'list', '--json']);
    expect((await http(windowsListSchema, 'GET', '/v1/windows')).windows).toEqual(windowsCli);

    // Events: each event GET /v1/events serves is the line `events --json` prints for it.
    const served = (await http(eventsListSchema, 'GET', '/v1/events?limit=1000')).events;
    const printed = await cli(listOf(eventSchema), ['events', '--limit', '1000', '--json'], true);
    expect(served.length).toBeGreaterThan(5);
    for (const e of served) expect(printed.find((x) => x.id === e.id)).toEqual(e);

    // The rest of the surface, for the casing walk below.
    await http(overviewSchema, 'GET', '/v1/overview');
    await http(webhookStatsSchema, 'GET', '/v1/webhooks/stats');
    await http(whoamiSchema, 'GET', '/v1/whoami');
    await http(okSchema, 'GET', '/healthz');
    await http(readinessSchema, 'GET', '/readyz?checks=redis');
    await http(errorSchema, 'GET', '/v1/batches/nope');
    await http(errorSchema, 'GET', '/v1/holds/not-an-account');
    await http(errorSchema, 'POST', `/v1/breakers/${id(8)}/reset`);

    // "Checks from outside find one casing": no key anywhere that is not snake_case.
    expect(seen.length).toBeGreaterThan(30);
    const camel = seen.flatMap(({ what, body }) => nonSnakeKeys(body).map((k) => `${what}: ${k}`));
    expect(camel).toEqual([]);
  }, 120_000);
});
