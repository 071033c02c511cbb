/**
 * The admin API's batch records and controls: GET /v1/batches[/:id], GET /v1/batches/:id/report
 * (streamed CSV or NDJSON), POST /v1/batches/:id/cancel and /undo; their specs and handlers.
 * Starting a run (POST /v1/batches) is in batch-runs.ts.
 */
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { NotFoundError } from '../../errors.js';
import { cancelBatch } from '../../ops/batch-cancel.js';
import { undoBatch } from '../../ops/batch-undo.js';
import { batchReportLines, getBatch, listBatches, noSuchBatch } from '../../ops/bulk.js';
import {
  batchesListSchema,
  batchSchema,
  batchView,
  cancelSchema,
  cancelView,
  undoSchema,
  undoView,
} from '../../wire/index.js';
import { routeFromSpec, type RouteSpec } from '../api-spec.js';
import { requestActor } from '../auth.js';
import { batchParams, limit, strict, type RegisterRoutes } from './fields.js';

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
  summary: "A batch's record: counts, times, passes, who created and cancelled it, and its undo",
  params: batchParams,
  responses: { 200: 'The batch.', 404: 'No such batch.' },
  answers: { 200: batchSchema },
} satisfies RouteSpec;

export const getBatchReport = {
  method: 'GET',
  path: '/batches/:id/report',
  tag: 'batches',
  summary:
    "One row per account, by account id: what the run did (outcome, status, error code, HTTP status, request id, attempts, at) and the account now (status_now, held_by, the undo's result and activation); streamed",
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

/** Who asks: the admin token's name (`admin` for ADMIN_TOKEN). */
const actorOf = (req: FastifyRequest): string => requestActor(req) ?? 'admin';

async function mustHaveBatch(config: Config, id: string): Promise<void> {
  if (!(await getBatch(config, id))) throw new NotFoundError(noSuchBatch(id));
}

export const registerBatchRoutes: RegisterRoutes = (app, { config }) => {
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
    routeFromSpec(postBatchCancel, async ({ params }, req, reply) => {
      await mustHaveBatch(config, params.id);
      return reply.send(cancelView(await cancelBatch(config, params.id, actorOf(req))));
    }),
  );
  app.post(
    postBatchUndo.path,
    routeFromSpec(postBatchUndo, async ({ params, body }, req, reply) => {
      await mustHaveBatch(config, params.id);
      const undone = await undoBatch(config, params.id, {
        force: body?.force === true,
        actor: actorOf(req),
      });
      return reply.send(undoView(undone));
    }),
  );
};
