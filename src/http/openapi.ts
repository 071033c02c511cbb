/**
 * The OpenAPI 3.1 document of the HTTP API, served at `GET /openapi.json` (public: it holds no
 * data). Built from the route specs (api-spec.ts) with zod's JSON Schema output, so the
 * documented parameters and bodies are the ones the routes check. test/integration/admin-api
 * checks that every route the server registers is documented and nothing else is.
 */
import { z } from 'zod';
import { signalSchema } from '../producers/breaker/signals.js';
import { VERSION } from '../version.js';
import {
  breakerModesSchema,
  breakerSchema,
  breakersListSchema,
  modeChangeSchema,
  errorSchema,
  resetSchema,
  signalResultSchema,
  signalResultsSchema,
  tripSchema,
  webhookStatsSchema,
  windowCancelSchema,
  windowDeleteSchema,
  windowSchema,
  windowsListSchema,
} from '../wire/index.js';
import { ADMIN_ROUTE_SPECS } from './admin-routes.js';
import type { RouteSpec } from './api-spec.js';
import {
  accountParams,
  limitQuery as breakerLimitQuery,
  MAX_SIGNALS_PER_REQUEST,
  modeBody,
  tripBody,
} from './breaker-routes.js';
import { OVERVIEW_ROUTE_SPECS } from './overview-routes.js';
import { OTHER_ROUTES } from './service-routes-doc.js';
import {
  createBody as windowCreateBody,
  extendBody as windowExtendBody,
  idParams as windowIdParams,
  limitQuery as windowLimitQuery,
} from './window-routes.js';

/** Routes of breaker-routes.ts and window-routes.ts (their handlers check the same schemas). */
const BREAKER_AND_WINDOW_SPECS: readonly RouteSpec[] = [
  {
    method: 'POST',
    path: '/signals',
    tag: 'breaker',
    summary: `Count delivery signals from your own pipeline (one, or an array of at most ${MAX_SIGNALS_PER_REQUEST})`,
    body: z.union([signalSchema, z.array(signalSchema)]),
    responses: { 200: 'What each signal did, in order.', 400: 'A signal breaks a rule.' },
    answers: { 200: z.union([signalResultSchema, signalResultsSchema]) },
  },
  {
    method: 'GET',
    path: '/breakers',
    tag: 'breaker',
    summary: 'Every account with breaker activity: state, counts and rates over the window',
    query: breakerLimitQuery,
    responses: { 200: '`{ accounts: [...] }`' },
    answers: { 200: breakersListSchema },
  },
  {
    method: 'GET',
    path: '/breakers/:account',
    tag: 'breaker',
    summary: "One account's breaker: state, counts and rates, last trip, holds",
    params: accountParams,
    responses: { 200: 'The breaker.', 400: 'Not an account id.' },
    answers: { 200: breakerSchema },
  },
  {
    method: 'POST',
    path: '/breakers/:account/trip',
    tag: 'breaker',
    summary: 'Trip the breaker by hand: the account is held and switched off',
    params: accountParams,
    body: tripBody,
    responses: { 200: 'Tripped.', 409: '`state_conflict`: open already.' },
    answers: { 200: tripSchema },
  },
  {
    method: 'POST',
    path: '/breakers/:account/reset',
    tag: 'breaker',
    summary:
      'Reset an open breaker: its hold is released (the account comes back on if it was the last)',
    params: accountParams,
    responses: { 200: 'Reset.', 409: '`state_conflict`: not open.' },
    answers: { 200: resetSchema },
  },
  {
    method: 'GET',
    path: '/breaker/mode',
    tag: 'breaker',
    summary: 'The breaker mode: the default (run-time or BREAKER_MODE) and accounts with their own',
    responses: { 200: 'The modes.' },
    answers: { 200: breakerModesSchema },
  },
  {
    method: 'PUT',
    path: '/breaker/mode',
    tag: 'breaker',
    summary:
      'Set the run-time breaker mode of an account (`account_id`) or the default (`"default": true`): act trips, warn says `breaker.would_trip` and notifies, watch only says it; null clears it (the settings apply)',
    body: modeBody,
    responses: {
      200: "The change (`changed: false` when it was that already); recorded as `breaker.mode_changed` with the token's name.",
      400: 'A field breaks its rule.',
    },
    answers: { 200: modeChangeSchema },
  },
  {
    method: 'GET',
    path: '/webhooks/stats',
    tag: 'breaker',
    summary:
      'What became of processed Sendmux webhook events; the latest unresolved and ambiguous ones, and dead letters',
    responses: {
      200: 'Counters by result (`unresolved`, `ambiguous` and `dead_lettered` among them); `unresolved`: the latest events no account was found for; `ambiguous`: the latest events several accounts could have sent (a shared `from_email` the delivery log did not settle, or a log naming several), each with its `candidates` and `via`, counted for none; `dead_letters` (without bodies); `inbox`: what the webhook inbox holds now (`backlog`: events not yet processed, `entries`, `bytes`).',
    },
    answers: { 200: webhookStatsSchema },
  },
  {
    method: 'POST',
    path: '/windows',
    tag: 'windows',
    summary: 'Create a maintenance window (one-off: start + end; recurring: cron + duration + tz)',
    body: windowCreateBody,
    responses: {
      201: 'The window.',
      400: 'A field breaks its rule.',
      409: 'The id is taken.',
    },
    answers: { 201: windowSchema },
  },
  {
    method: 'GET',
    path: '/windows',
    tag: 'windows',
    summary: 'Windows, newest first',
    query: windowLimitQuery,
    responses: { 200: '`{ windows: [...] }`' },
    answers: { 200: windowsListSchema },
  },
  {
    method: 'GET',
    path: '/windows/:id',
    tag: 'windows',
    summary: 'A window, its next starts and its occurrences',
    params: windowIdParams,
    responses: { 200: 'The window.', 404: 'No such window.' },
    answers: { 200: windowSchema },
  },
  {
    method: 'POST',
    path: '/windows/:id/cancel',
    tag: 'windows',
    summary: 'Cancel a window: a future one is removed, a running one ends now',
    params: windowIdParams,
    responses: { 200: 'What it was and what it is now.', 404: 'No such window.' },
    answers: { 200: windowCancelSchema },
  },
  {
    method: 'DELETE',
    path: '/windows/:id',
    tag: 'windows',
    summary:
      'Delete a window that holds nothing (over, not yet started, cancelled): its records and jobs go; holds and accounts are not touched',
    params: windowIdParams,
    responses: {
      200: 'Deleted.',
      404: 'No such window.',
      409: '`state_conflict`: an occurrence is running (cancel the window first).',
    },
    answers: { 200: windowDeleteSchema },
  },
  {
    method: 'POST',
    path: '/windows/:id/extend',
    tag: 'windows',
    summary: 'Move the end of a one-off window',
    params: windowIdParams,
    body: windowExtendBody,
    responses: { 200: 'The window.', 404: 'No such window.', 409: 'Cancelled or over.' },
    answers: { 200: windowSchema },
  },
];

/** Every admin route (under /v1), for the document and its completeness test. */
export const ADMIN_SPECS: readonly RouteSpec[] = [
  ...ADMIN_ROUTE_SPECS,
  ...OVERVIEW_ROUTE_SPECS,
  ...BREAKER_AND_WINDOW_SPECS,
];

/** `/batches/:id` -> `/batches/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}

type JsonSchema = Record<string, unknown>;
const schemaOf = (s: z.ZodType): JsonSchema =>
  z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });

function parameters(spec: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ['path', spec.params],
    ['query', spec.query],
  ] as const) {
    if (!schema) continue;
    const json = schemaOf(schema);
    const props = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, s] of Object.entries(props)) {
      out.push({ name, in: where, required: where === 'path' || required.has(name), schema: s });
    }
  }
  return out;
}

/** The JSON Schema of a wire schema's output (what the route answers). */
export const answerSchemaOf = (s: z.ZodType): JsonSchema =>
  z.toJSONSchema(s, { io: 'output', unrepresentable: 'any' });

const ERROR_SCHEMA = answerSchemaOf(errorSchema);

function operation(spec: RouteSpec, secured: boolean): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, description] of Object.entries(spec.responses)) {
    const answer = spec.answers?.[Number(status)];
    responses[status] =
      Number(status) >= 400
        ? {
            description,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          }
        : answer
          ? { description, content: { 'application/json': { schema: answerSchemaOf(answer) } } }
          : { description };
  }
  if (secured) {
    responses['401'] = {
      description: 'No token, or not ADMIN_TOKEN nor one of ADMIN_TOKENS.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
    if (spec.method !== 'GET') {
      responses['403'] ??= {
        description: '`forbidden`: the token is read-only (ADMIN_TOKENS kind `read`).',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
  }
  const op: JsonSchema = {
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    parameters: parameters(spec),
    responses,
  };
  if (spec.body || spec.rawBodies) {
    const content: Record<string, JsonSchema> = {};
    if (spec.body) content['application/json'] = { schema: schemaOf(spec.body) };
    for (const [type, description] of Object.entries(spec.rawBodies ?? {})) {
      content[type] = { schema: { type: 'string', description } };
    }
    op.requestBody = {
      required: (spec.method === 'POST' || spec.method === 'PUT') && spec.body !== undefined,
      content,
    };
  }
  return op;
}

/** The document; `prefix` is the admin API's (`/v1`). */
export function openApiDocument(prefix: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const add = (path: string, method: string, op: JsonSchema) => {
    (paths[path] ??= {})[method.toLowerCase()] = op;
  };
  for (const spec of ADMIN_SPECS) {
    add(openApiPath(prefix + spec.path), spec.method, operation(spec, true));
  }
  for (const r of OTHER_ROUTES) {
    add(r.path, r.method, {
      tags: ['service'],
      summary: r.summary,
      ...(r.public ? { security: [] } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(r.body) } },
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(r.answers ?? { 200: 'OK' }).map(([status, description]) => [
          status,
          { description },
        ]),
      ),
    });
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'sendmux-deactivator',
      version: VERSION,
      description:
        'Switch Sendmux sending accounts off and back on through a Redis-backed queue. Every route needs `Authorization: Bearer <token>` (ADMIN_TOKEN or one of ADMIN_TOKENS; or HTTP Basic with the token as the password) unless marked otherwise; a read-only token (ADMIN_TOKENS kind `read`) may only GET. Errors are `{ error: { code, message } }`; a 400 names the field and the rule.',
    },
    security: [{ bearer: [] }, { basic: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        basic: { type: 'http', scheme: 'basic' },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
    paths,
  };
}
