/**
 * The admin API's own routes (behind the admin token): thin shells over the library (src/ops),
 * each described by a {@link RouteSpec} so the OpenAPI document shows exactly what is checked.
 *
 *   POST /v1/actions                   switch accounts off or on (manual, with its hold)
 *   GET  /v1/accounts[/:account]       recorded statuses with holds
 *   GET  /v1/holds[/:account]          what keeps accounts off
 *   GET  /v1/events                    recent events (?type, ?limit)
 *   POST /v1/batches                   start or resume a bulk run (JSON, or a text/csv upload)
 *   GET  /v1/batches[/:id]             batch records
 *   GET  /v1/batches/:id/report        one row per account (?format=csv|json)
 *   POST /v1/batches/:id/cancel        remove what has not started
 *   POST /v1/batches/:id/undo          switch back on what the run switched off
 *
 * The breaker's routes are in breaker-routes.ts, the windows' in window-routes.ts.
 */
import { Readable, Transform } from 'node:stream';
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Config } from '../config.js';
import { InvalidInputError, NotFoundError, StateConflictError, UsageError } from '../errors.js';
import {
  ACTIONS,
  EVENT_TYPES,
  IDEMPOTENCY_KEY_RULE,
  ACCOUNT_ID_RULE,
  ACCOUNT_ID_RULE_TEXT,
} from '../model.js';
import { accountsWithHolds } from '../ops/account-status.js';
import { cancelBatch, undoBatch } from '../ops/batch-control.js';
import {
  batchReportLines,
  dryRunBulk,
  getBatch,
  listBatches,
  noSuchBatch,
  startBulkRun,
} from '../ops/bulk.js';
import { enqueueActions } from '../ops/enqueue-actions.js';
import { readAccountHolds } from '../ops/holds.js';
import { parseFilter } from '../producers/bulk/accounts.js';
import type { BulkSource } from '../producers/bulk/run.js';
import type { RedisClient as Redis } from '../redis.js';
import { BATCH_ID_RULE, BATCH_ID_RULE_TEXT } from '../store/batch-record.js';
import { readRecentEvents } from '../store/events.js';
import { keysFor } from '../store/keys.js';
import { listStatuses } from '../store/status-record.js';
import {
  accountHoldsSchema,
  accountHoldsView,
  accountSchema,
  accountsListSchema,
  accountView,
  actionsAnswerSchema,
  actionsAnswerView,
  batchesListSchema,
  batchSchema,
  batchView,
  bulkRunSchema,
  bulkRunView,
  cancelSchema,
  cancelView,
  dryRunSchema,
  dryRunView,
  eventsListSchema,
  eventView,
  holdsListSchema,
  undoSchema,
  undoView,
} from '../wire/index.js';
import { routeFromSpec, validate, type RouteSpec } from './api-spec.js';
import { redisIsDown, sendUnavailable } from './errors.js';

/** Accounts per POST /v1/actions. */
export const MAX_ACCOUNTS_PER_ACTION = 1_000;
/** Largest text/csv upload to POST /v1/batches (about a million ids). */
export const BATCH_UPLOAD_LIMIT_BYTES = 32 * 1_048_576;
/** Largest JSON body of POST /v1/batches (about 30,000 ids; upload text/csv beyond). */
export const BATCH_JSON_LIMIT_BYTES = 1_048_576;

const text = (max: number) =>
  z.string({ error: 'must be a string' }).max(max, { error: `must be at most ${max} characters` });
const account = z
  .string({ error: 'must be a string' })
  .regex(ACCOUNT_ID_RULE, { error: ACCOUNT_ID_RULE_TEXT });
const batchId = z
  .string({ error: 'must be a string' })
  .regex(BATCH_ID_RULE, { error: BATCH_ID_RULE_TEXT });
const action = z.enum(ACTIONS, { error: `must be one of ${ACTIONS.join(', ')}` });
const limit = (max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be >= 1' })
    .max(max, { error: `must be <= ${max}` });
/** A query flag: `true`/`false` (or `1`/`0`). */
const flag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');
const strict = <T extends z.core.$ZodLooseShape>(shape: T) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? 'must be a JSON object'
        : `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
  });

const accountParams = z.object({ account });
const batchParams = z.object({ id: batchId });

export const postActions = {
  method: 'POST',
  path: '/actions',
  tag: 'actions',
  summary: 'Switch accounts off or on',
  description:
    'Deactivate takes the `manual` hold on each account; activate releases it and is not enqueued for an account other holds keep off (`enqueue: "held"`, `held_by`). Returns once enqueued; follow with GET /v1/accounts/{account} or GET /v1/events.',
  body: strict({
    action,
    accounts: z
      .array(account, { error: 'must be an array of account ids' })
      .min(1, { error: 'must not be empty' })
      .max(MAX_ACCOUNTS_PER_ACTION, {
        error: `must have at most ${MAX_ACCOUNTS_PER_ACTION} accounts`,
      }),
    reason: text(500).optional(),
    idempotency_key: z
      .string({ error: 'must be a string' })
      .regex(IDEMPOTENCY_KEY_RULE, { error: 'must be 1..255 printable ASCII characters' })
      .optional(),
  }).refine((b) => b.idempotency_key === undefined || b.accounts.length === 1, {
    path: ['idempotency_key'],
    error: 'only with exactly one account',
  }),
  responses: {
    202: '`{ reports: [...], repeated: [...], warnings: [...] }`: one report per account.',
    400: 'A field breaks its rule (named in the message).',
    409: 'The idempotency key is bound to another intent.',
    503: '`redis_unavailable` (with `Retry-After`): Redis is not connected, or the request did not finish within HTTP_ACTIONS_TIMEOUT_MS; what was enqueued stays enqueued.',
  },
  answers: { 202: actionsAnswerSchema },
} satisfies RouteSpec;

export const getAccounts = {
  method: 'GET',
  path: '/accounts',
  tag: 'accounts',
  summary: 'Recorded account statuses with their holds, most recently changed first',
  query: z.object({ limit: limit(1_000).default(100) }),
  responses: { 200: '`{ accounts: [...] }`' },
  answers: { 200: accountsListSchema },
} satisfies RouteSpec;

export const getAccount = {
  method: 'GET',
  path: '/accounts/:account',
  tag: 'accounts',
  summary: "One account's recorded status and holds (nulls when nothing is recorded)",
  params: accountParams,
  responses: { 200: 'The account.', 400: 'Not an account id.' },
  answers: { 200: accountSchema },
} satisfies RouteSpec;

export const getHolds = {
  method: 'GET',
  path: '/holds',
  tag: 'accounts',
  summary: 'Every held account: which sources keep it off, and its state before',
  query: z.object({ limit: limit(100_000).default(1_000) }),
  responses: { 200: '`{ accounts: [...] }`' },
  answers: { 200: holdsListSchema },
} satisfies RouteSpec;

export const getAccountHolds = {
  method: 'GET',
  path: '/holds/:account',
  tag: 'accounts',
  summary: "One account's holds",
  params: accountParams,
  responses: { 200: '`{ account_id, holds, before, since }`', 400: 'Not an account id.' },
  answers: { 200: accountHoldsSchema },
} satisfies RouteSpec;

export const getEvents = {
  method: 'GET',
  path: '/events',
  tag: 'events',
  summary: 'The most recent events, oldest first',
  query: z.object({
    type: z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }).optional(),
    limit: limit(10_000).default(100),
  }),
  responses: { 200: '`{ events: [...] }`' },
  answers: { 200: eventsListSchema },
} satisfies RouteSpec;

const batchOptions = {
  action: action.optional(),
  batch_id: batchId.optional(),
  reason: text(500).optional(),
};

export const postBatches = {
  method: 'POST',
  path: '/batches',
  tag: 'batches',
  summary: 'Start a bulk run, or resume one (same batch_id)',
  description:
    'A JSON body gives `ids` or `filter`. For more ids, upload them as `text/plain` or `text/csv` (one id per line, or CSV with an `id` column; at most 32 MiB) with the options in the query string. With any invalid id nothing is enqueued (400 naming the lines) unless `skip_invalid`. The shared Amazon SES account is left out unless `include_shared`. `dry_run` says what would happen and enqueues nothing (200).',
  body: strict({
    ...batchOptions,
    ids: z
      .array(text(200), { error: 'must be an array of account ids' })
      .min(1, { error: 'must not be empty' })
      .optional(),
    filter: text(200).optional(),
    skip_invalid: z.boolean({ error: 'must be true or false' }).optional(),
    include_shared: z.boolean({ error: 'must be true or false' }).optional(),
    dry_run: z.boolean({ error: 'must be true or false' }).optional(),
  }).refine((b) => (b.ids === undefined) !== (b.filter === undefined), {
    error: 'give exactly one of "ids" or "filter"',
  }),
  query: z.object({
    ...batchOptions,
    skip_invalid: flag.optional(),
    include_shared: flag.optional(),
    dry_run: flag.optional(),
  }),
  rawBodies: {
    'text/plain': 'One account id per line (`#` comments and blank lines ignored).',
    'text/csv': 'CSV with an `id` column.',
  },
  responses: {
    202: '`{ batch_id, pass: {...}, batch: {...} }`: enqueued; follow with GET /v1/batches/{id}.',
    200: 'With `dry_run`: what a run would do.',
    400: 'Invalid ids (named by line), or a field breaking its rule.',
    409: 'The batch id belongs to a run of the other action.',
    413: 'The upload is larger than 32 MiB.',
  },
  answers: { 202: bulkRunSchema, 200: dryRunSchema },
} satisfies RouteSpec;

export const getBatches = {
  method: 'GET',
  path: '/batches',
  tag: 'batches',
  summary: 'The most recent batches, newest first',
  query: z.object({ limit: limit(1_000).default(100) }),
  responses: { 200: '`{ batches: [...] }`' },
  answers: { 200: batchesListSchema },
} satisfies RouteSpec;

export const getBatchRoute = {
  method: 'GET',
  path: '/batches/:id',
  tag: 'batches',
  summary: "A batch's record: counts, times, passes",
  params: batchParams,
  responses: { 200: 'The batch.', 404: 'No such batch.' },
  answers: { 200: batchSchema },
} satisfies RouteSpec;

export const getBatchReport = {
  method: 'GET',
  path: '/batches/:id/report',
  tag: 'batches',
  summary:
    'One row per account: outcome, status, error code, HTTP status, request id, attempts (streamed)',
  params: batchParams,
  query: z.object({
    format: z.enum(['csv', 'json'], { error: 'must be csv or json' }).default('csv'),
  }),
  responses: {
    200: '`text/csv` with a header row, or `application/x-ndjson` (one object per line).',
    404: 'No such batch.',
  },
} satisfies RouteSpec;

export const postBatchCancel = {
  method: 'POST',
  path: '/batches/:id/cancel',
  tag: 'batches',
  summary: 'Cancel what is left: jobs not started are removed (cancelled); running ones finish',
  params: batchParams,
  responses: { 200: '`{ batch_id, cancelled, running, already_done }`', 404: 'No such batch.' },
  answers: { 200: cancelSchema },
} satisfies RouteSpec;

export const postBatchUndo = {
  method: 'POST',
  path: '/batches/:id/undo',
  tag: 'batches',
  summary:
    'Switch back on the accounts a deactivate run switched off, where its hold was the last and they were active before',
  params: batchParams,
  body: strict({ force: z.boolean({ error: 'must be true or false' }).optional() }).optional(),
  responses: {
    200: 'Counts by result and the accounts (first 1,000).',
    400: 'An activate batch, or a batch not finished without `force`.',
    404: 'No such batch.',
  },
  answers: { 200: undoSchema },
} satisfies RouteSpec;

/** Every spec of this file, for the OpenAPI document. */
export const ADMIN_ROUTE_SPECS: readonly RouteSpec[] = [
  postActions,
  getAccounts,
  getAccount,
  getHolds,
  getAccountHolds,
  getEvents,
  postBatches,
  getBatches,
  getBatchRoute,
  getBatchReport,
  postBatchCancel,
  postBatchUndo,
];

/** The bulk run's messages name CLI flags (`--skip-invalid`); here they name the fields. */
function asFieldNames(err: unknown): unknown {
  const named =
    err instanceof UsageError ||
    err instanceof InvalidInputError ||
    err instanceof StateConflictError;
  if (!named) return err;
  err.message = err.message.replace(/--([a-z]+(?:-[a-z]+)*)/g, (_m, f: string) =>
    f.replace(/-/g, '_'),
  );
  return err;
}

/** `Retry-After` of a 503 from POST /v1/actions. */
export const ACTIONS_RETRY_AFTER_S = 5;

/** POST /v1/actions could not reach Redis, or not in time: 503 `redis_unavailable`. */
function actionsUnavailable(reply: FastifyReply, why: string): FastifyReply {
  return sendUnavailable(
    reply,
    'redis_unavailable',
    `Redis is unreachable or too slow (${why}): the actions may not all be enqueued; ask again (with the same idempotency_key, the answer says what was done)`,
    ACTIONS_RETRY_AFTER_S,
  );
}

async function mustHaveBatch(config: Config, id: string): Promise<void> {
  if (!(await getBatch(config, id))) throw new NotFoundError(noSuchBatch(id));
}

/** Counts the bytes of an upload; past `max` it fails with a 413. */
function capped(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) {
        const err = Object.assign(new Error(`body: must be at most ${max} bytes`), {
          statusCode: 413,
          code: 'FST_ERR_CTP_BODY_TOO_LARGE',
        });
        done(err);
        return;
      }
      done(null, chunk);
    },
  });
}

export function adminRoutes(deps: { config: Config; redis: Redis }): FastifyPluginCallback {
  const { config, redis } = deps;
  const keys = keysFor(config.prefix);
  const withHolds = async (ids: readonly string[]) =>
    (await accountsWithHolds(redis, keys, ids)).accounts;

  return (app, _opts, done) => {
    // An upload of ids reaches the handler as a stream (text/plain, text/csv), never buffered.
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser(['text/plain', 'text/csv'], (_req, payload, next) => {
      next(null, payload);
    });

    app.get('/whoami', (_req, reply) => reply.send({ ok: true }));

    app.post(
      postActions.path,
      routeFromSpec(postActions, async ({ body }, _req, reply) => {
        // Redis not connected: refused at once. Connected but too slow (frozen, overloaded):
        // refused after HTTP_ACTIONS_TIMEOUT_MS, the run aborted; what it enqueued stays, and
        // asking again with the same idempotency_key answers its state.
        if (redisIsDown(redis)) return actionsUnavailable(reply, `Redis is ${redis.status}`);
        const limit = new AbortController();
        const timer = setTimeout(() => {
          limit.abort(new Error(`POST /v1/actions: not done within ${config.actionsTimeoutMs} ms`));
        }, config.actionsTimeoutMs);
        let result: Awaited<ReturnType<typeof enqueueActions>> | undefined;
        try {
          const run = enqueueActions(config, {
            action: body.action,
            accountIds: body.accounts,
            key: body.idempotency_key,
            reason: body.reason,
            signal: limit.signal,
          });
          // The run stops at its next check of the signal; the answer does not wait for it.
          const stopped = new Promise<never>((_resolve, reject) => {
            limit.signal.addEventListener('abort', () => {
              reject(limit.signal.reason as Error);
            });
          });
          result = await Promise.race([run, stopped]);
        } catch (err) {
          // Redis went away meanwhile: a 503 too, not a 500.
          if (!limit.signal.aborted && !redisIsDown(redis)) throw err;
        } finally {
          clearTimeout(timer);
        }
        if (result === undefined) {
          const why = limit.signal.aborted
            ? `not done within HTTP_ACTIONS_TIMEOUT_MS, ${config.actionsTimeoutMs} ms`
            : `Redis is ${redis.status}`;
          return actionsUnavailable(reply, why);
        }
        return reply.code(202).send(actionsAnswerView(result));
      }),
    );

    app.get(
      getAccounts.path,
      routeFromSpec(getAccounts, async ({ query }, _req, reply) => {
        const recorded = await listStatuses(redis, keys, query.limit);
        const accounts = await withHolds(recorded.map((s) => s.account_id));
        return reply.send({ accounts: accounts.map(accountView) });
      }),
    );
    app.get(
      getAccount.path,
      routeFromSpec(getAccount, async ({ params }, _req, reply) => {
        const [one] = await withHolds([params.account]);
        return reply.send(one && accountView(one));
      }),
    );
    app.get(
      getHolds.path,
      routeFromSpec(getHolds, async ({ query }, _req, reply) =>
        reply.send({
          accounts: (await readAccountHolds(redis, config.prefix, [], query.limit)).map(
            accountHoldsView,
          ),
        }),
      ),
    );
    app.get(
      getAccountHolds.path,
      routeFromSpec(getAccountHolds, async ({ params }, _req, reply) => {
        const [holds] = await readAccountHolds(redis, config.prefix, [params.account]);
        return reply.send(holds && accountHoldsView(holds));
      }),
    );

    app.get(
      getEvents.path,
      routeFromSpec(getEvents, async ({ query }, _req, reply) =>
        reply.send({ events: (await readRecentEvents(redis, keys, query)).map(eventView) }),
      ),
    );

    app.post(postBatches.path, { bodyLimit: BATCH_JSON_LIMIT_BYTES }, async (req, reply) => {
      const upload = req.body instanceof Readable ? req.body : undefined;
      const query = validate(postBatches.query, req.query, 'query');
      let source: BulkSource;
      let options: typeof query;
      if (upload) {
        options = query;
        source = {
          kind: 'stream',
          input: upload.pipe(capped(BATCH_UPLOAD_LIMIT_BYTES)),
          name: 'the uploaded body',
        };
      } else {
        if (Object.keys(query).length > 0) {
          throw new UsageError(
            'query: options go in the JSON body (the query string is for text/csv uploads)',
          );
        }
        const body = validate(postBatches.body, req.body ?? undefined, 'body');
        options = body;
        source =
          body.ids !== undefined
            ? { kind: 'ids', ids: body.ids }
            : { kind: 'filter', filter: parseFilter(body.filter ?? '') };
      }
      const run = {
        source,
        action: options.action,
        batchId: options.batch_id,
        reason: options.reason,
        skipInvalid: options.skip_invalid,
        includeShared: options.include_shared,
      };
      try {
        if (options.dry_run === true) {
          return await reply.send(dryRunView(await dryRunBulk(config, run)));
        }
        const { pass, batch } = await startBulkRun(config, run);
        return await reply.code(202).send(bulkRunView(pass, batch));
      } catch (err) {
        throw asFieldNames(err);
      }
    });

    app.get(
      getBatches.path,
      routeFromSpec(getBatches, async ({ query }, _req, reply) =>
        reply.send({ batches: (await listBatches(config, query.limit)).map(batchView) }),
      ),
    );
    app.get(
      getBatchRoute.path,
      routeFromSpec(getBatchRoute, async ({ params }, _req, reply) => {
        const batch = await getBatch(config, params.id);
        if (!batch) throw new NotFoundError(noSuchBatch(params.id));
        return reply.send(batchView(batch));
      }),
    );
    app.get(
      getBatchReport.path,
      routeFromSpec(getBatchReport, async ({ params, query }, _req, reply) => {
        await mustHaveBatch(config, params.id);
        const csv = query.format === 'csv';
        return reply
          .type(csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
          .header(
            'content-disposition',
            `attachment; filename="batch-${params.id}.${csv ? 'csv' : 'ndjson'}"`,
          )
          .send(Readable.from(batchReportLines(config, params.id, query.format)));
      }),
    );
    app.post(
      postBatchCancel.path,
      routeFromSpec(postBatchCancel, async ({ params }, _req, reply) => {
        await mustHaveBatch(config, params.id);
        return reply.send(cancelView(await cancelBatch(config, params.id)));
      }),
    );
    app.post(
      postBatchUndo.path,
      routeFromSpec(postBatchUndo, async ({ params, body }, _req, reply) => {
        await mustHaveBatch(config, params.id);
        const undone = await undoBatch(config, params.id, { force: body?.force === true });
        return reply.send(undoView(undone));
      }),
    );
    done();
  };
}
