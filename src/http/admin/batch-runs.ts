/**
 * POST /v1/batches: start or resume a bulk run from a JSON body (ids or a filter) or a streamed
 * text/plain or text/csv upload (options in the query); its spec, its size limits and handler.
 */
import { Readable, Transform } from 'node:stream';
import { z } from 'zod';
import { InvalidInputError, StateConflictError, UsageError } from '../../errors.js';
import { dryRunBulk, startBulkRun } from '../../ops/bulk.js';
import { parseFilter } from '../../producers/bulk/accounts.js';
import type { BulkSource } from '../../producers/bulk/run.js';
import { bulkRunSchema, bulkRunView, dryRunSchema, dryRunView } from '../../wire/index.js';
import { validate, type RouteSpec } from '../api-spec.js';
import { requestActor } from '../auth.js';
import { action, batchId, flag, strict, text, type RegisterRoutes } from './fields.js';

/** Largest text/csv upload to POST /v1/batches (about a million ids). */
export const BATCH_UPLOAD_LIMIT_BYTES = 32 * 1_048_576;
/** Largest JSON body of POST /v1/batches (about 30,000 ids; upload text/csv beyond). */
export const BATCH_JSON_LIMIT_BYTES = 1_048_576;

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

/** Needs the stream parser of text/plain and text/csv that admin-routes.ts installs. */
export const registerBatchRunRoutes: RegisterRoutes = (app, { config }) => {
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
      actor: requestActor(req) ?? undefined,
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
};
