/**
 * Held to Sendmux's own contract by a tool we did not write (issue 21 §2, §3): Stoplight Prism
 * serving `spec/sendmux/openapi-management.json`.
 *
 * 1. Prism's mock with the file's examples: every call the client makes (account read, the
 *    listing with each filter, the delivery-log search, activate and deactivate with and without
 *    an idempotency key) is sent to it, and any request violation Prism reports fails the test.
 * 2. Prism's mock in dynamic mode (answers generated from the schemas, a fixed seed), a bounded
 *    number of calls per operation: the client reads every answer or fails with its own typed
 *    SendmuxError, never with anything else.
 * 3. Prism as a validating proxy in front of the project's simulator: the same calls, and any
 *    violation of the simulator's answers (or of the requests) fails the test: one contract, two
 *    checks (ours in test/unit/sim, and Prism's).
 *
 * Where the OpenAPI file disagrees with itself (Prism finds its own examples invalid), the
 * answers' violations of part 1 are expected and listed in spec/sendmux/PRISM-NOTES.md; they
 * are printed, not failed on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSendmuxClient,
  PROVIDER_STATUSES,
  PROVIDER_TYPES,
  SendmuxError,
  type ListFilter,
  type SendmuxClient,
} from '../../src/sendmux/index.js';
import { simAccountId, startSimulator, type Simulator } from '../../src/sim/index.js';
import { declaredRef, validatorFor } from '../support/openapi-schemas.js';
import {
  repairQuotaRanges,
  startPrism,
  startRecorder,
  violationsOf,
  type Prism,
  type Exchange,
  type Recorder,
} from '../support/prism.js';

/** Calls per operation against the dynamic mock. */
const DYNAMIC_CALLS = 12;
const API_KEY = 'smx_root_contract_test_key';

const FILTERS: ListFilter[] = [
  {},
  { limit: 1 },
  { limit: 100 },
  ...PROVIDER_STATUSES.map((status) => ({ status })),
  ...PROVIDER_TYPES.map((type) => ({ type })),
  { status: 'active', type: 'smtp' },
];

/** What a call ended with: a value, the client's typed error, or anything else (a defect). */
type Ending =
  | { ok: true }
  | { ok: false; typed: true; code: string }
  | { ok: false; typed: false; error: string };

async function ending(call: () => Promise<unknown>): Promise<Ending> {
  try {
    await call();
    return { ok: true };
  } catch (err) {
    if (err instanceof SendmuxError) return { ok: false, typed: true, code: String(err.code) };
    return {
      ok: false,
      typed: false,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    };
  }
}

async function drain(iterable: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const item of iterable) if (item) n += 1;
  return n;
}

/** Every operation the client has, each called once (with and without idempotency keys). */
function everyCall(
  client: SendmuxClient,
  id: string,
  round: number,
): [string, () => Promise<unknown>][] {
  return [
    ['readAccount', () => client.readAccount(id)],
    ['getProvider', () => client.getProvider(id)],
    ...FILTERS.map((f): [string, () => Promise<unknown>] => [
      `listProviders ${JSON.stringify(f)}`,
      () => drain(client.listProviders(f, { maxPages: 3 })),
    ]),
    ['searchDeliveryLogs', () => client.searchDeliveryLogs('<msg-1@example.com>', { limit: 50 })],
    [
      'listDeliveryLogs',
      () =>
        drain(
          client.listDeliveryLogs(
            {
              fromDate: '2026-12-01T00:00:00Z',
              toDate: '2026-12-02T00:00:00Z',
              providerId: id,
              status: 'failed',
              limit: 100,
            },
            { maxPages: 3 },
          ),
        ),
    ],
    ['deactivate with key', () => client.deactivate(id, { idempotencyKey: `contract-d-${round}` })],
    ['deactivate without key', () => client.deactivate(id)],
    ['activate with key', () => client.activate(id, { idempotencyKey: `contract-a-${round}` })],
    ['activate without key', () => client.activate(id)],
  ];
}

/** What one call ended with, and the exchanges it made. */
type Outcome = Ending & { exchanges: Exchange[] };

async function runAll(
  client: SendmuxClient,
  recorder: Recorder,
  id: string,
  rounds = 1,
): Promise<Map<string, Outcome[]>> {
  const out = new Map<string, Outcome[]>();
  for (let round = 0; round < rounds; round++) {
    for (const [name, call] of everyCall(client, id, round)) {
      const list = out.get(name) ?? [];
      const from = recorder.exchanges.length;
      const end = await ending(call);
      list.push({ ...end, exchanges: recorder.exchanges.slice(from) });
      out.set(name, list);
    }
  }
  return out;
}

/** The OpenAPI path of a request path (the four the client calls). */
function specPath(path: string): string {
  const p = path.split('?')[0] ?? '';
  if (p === '/providers' || p === '/emails/logs') return p;
  if (/^\/providers\/[^/]+\/(de)?activate$/.test(p))
    return p.replace(/^\/providers\/[^/]+/, '/providers/{public_id}');
  return '/providers/{public_id}';
}

/** Whether every answer of the call is what the OpenAPI file declares for it. */
function schemaValid(exchanges: readonly Exchange[]): boolean {
  return (
    exchanges.length > 0 &&
    exchanges.every((e) => {
      let body: unknown;
      try {
        body = JSON.parse(e.body);
      } catch {
        return false;
      }
      const method = e.method.toLowerCase() === 'post' ? 'post' : 'get';
      const { ref, declared } = declaredRef(specPath(e.path), method, e.status);
      return declared && validatorFor(ref)(body);
    })
  );
}

function untyped(endings: Map<string, Outcome[]>): string[] {
  return [...endings].flatMap(([name, list]) =>
    list.flatMap((e) => (!e.ok && !e.typed ? [`${name}: ${e.error}`] : [])),
  );
}

const started: { close(): Promise<void> }[] = [];
let staticMock: Prism;
let dynamicMock: Prism;
let proxy: Prism;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ accounts: 30, rateLimit: 0 });
  started.push(sim);
  // The three start side by side: each takes seconds to read the file.
  [staticMock, dynamicMock, proxy] = await Promise.all([
    startPrism({ kind: 'mock' }),
    startPrism({ kind: 'mock', dynamic: true, seed: 21 }),
    startPrism({ kind: 'proxy', upstream: sim.url }),
  ]);
  started.push(staticMock, dynamicMock, proxy);
}, 120_000);

afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
});

async function through(
  prism: Prism,
  apiKey = API_KEY,
  rewrite?: (body: unknown) => unknown,
): Promise<{ recorder: Recorder; client: SendmuxClient }> {
  const recorder = await startRecorder(prism.url, rewrite);
  started.push(recorder);
  const client = createSendmuxClient({ baseUrl: recorder.url, apiKey, timeoutMs: 10_000 });
  started.push({
    close: () => {
      client.close();
      return Promise.resolve();
    },
  });
  return { recorder, client };
}

describe('the client against Prism (Sendmux OpenAPI file)', () => {
  it("sends no request Prism's mock finds against the contract", async () => {
    const { recorder, client } = await through(staticMock);
    const endings = await runAll(client, recorder, 'dprov_clxxxxxxxxxxxxxxxxxxxxxxxxx');
    expect(recorder.exchanges.length).toBeGreaterThanOrEqual(everyCall(client, 'x', 0).length);
    expect(violationsOf(recorder.exchanges, 'request'), staticMock.log().slice(-3000)).toEqual([]);
    expect(untyped(endings)).toEqual([]);
    // The listing's example always says has_more with cursor "string": the listing stops.
    const listing = endings.get('listProviders {}')?.[0];
    expect(listing).toMatchObject({ ok: false, typed: true, code: 'invalid_pagination' });
    const known = new Set(
      violationsOf(recorder.exchanges, 'response').map((v) => v.replace(/^\S+ \S+: /, '')),
    );
    console.log(
      `Prism's own examples against its own schemas (spec/sendmux/PRISM-NOTES.md):\n  ${[...known].join('\n  ')}`,
    );
  });

  it('reads every generated answer or fails with its own typed error', async () => {
    const { recorder, client } = await through(dynamicMock, API_KEY, repairQuotaRanges);
    const endings = await runAll(client, recorder, 'dprov_contract_dynamic', DYNAMIC_CALLS);
    expect(untyped(endings)).toEqual([]);
    expect(violationsOf(recorder.exchanges, 'request')).toEqual([]);
    const summary = [...endings].map(
      ([name, list]) =>
        `${name}: ${list.filter((e) => e.ok).length}/${list.length} read, typed errors: ${
          [...new Set(list.flatMap((e) => (!e.ok && e.typed ? [e.code] : [])))].join(', ') || 'none'
        }`,
    );
    console.log(
      `dynamic answers (seed 21, ${DYNAMIC_CALLS} calls each):\n  ${summary.join('\n  ')}`,
    );
    // Every call whose answers were all valid by the file's own schemas (ajv) was read: the
    // client is no stricter than the contract. (A listing may still stop on a cursor that
    // repeats or on the page bound: that is its guard, not strictness.)
    const refused = [...endings].flatMap(([name, list]) =>
      list.flatMap((e) =>
        !e.ok && e.typed && e.code !== 'invalid_pagination' && schemaValid(e.exchanges)
          ? [
              `${name}: ${e.code} on a schema-valid answer: ${e.exchanges.at(-1)?.body.slice(0, 400) ?? ''}`,
            ]
          : [],
      ),
    );
    expect(refused).toEqual([]);
    const valid = [...endings].flatMap(([, list]) => list.filter((e) => schemaValid(e.exchanges)));
    console.log(`schema-valid generated answers: ${valid.length} calls, all read`);
    expect(valid.length).toBeGreaterThan(0);
  });

  it("the simulator's answers pass Prism's validation, and so do the requests", async () => {
    const { recorder, client } = await through(proxy, 'smx_root_sim_key');
    const endings = await runAll(client, recorder, simAccountId(3));
    expect(untyped(endings)).toEqual([]);
    expect(recorder.exchanges.length).toBeGreaterThan(0);
    expect(violationsOf(recorder.exchanges, 'request')).toEqual([]);
    expect(violationsOf(recorder.exchanges, 'response'), proxy.log().slice(-3000)).toEqual([]);
    // The simulator really answered (not Prism): its account, its states.
    const got = await client.getProvider(simAccountId(3));
    expect(got.data.id).toBe(simAccountId(3));
  });
});
