/**
 * The admin API described once: each route's method, path, summary and zod schemas. Routes
 * built from a spec ({@link routeFromSpec}) validate with the same schemas the OpenAPI
 * document (`GET /openapi.json`, openapi.ts) shows, so the two cannot drift; a bad field is a
 * 400 `invalid_input` whose message names it (`body.accounts.2: ...`).
 */
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { z } from 'zod';
import { UsageError } from '../errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** Fastify style, relative to the API prefix: `/batches/:id`. */
  path: string;
  /** OpenAPI tag. */
  tag: string;
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Other request bodies the route takes, by media type (documented only). */
  rawBodies?: Readonly<Record<string, string>>;
  /** Status -> what it means. Error statuses share the `{ error: { code, message } }` shape. */
  responses: Readonly<Record<number, string>>;
  /**
   * Status -> the wire schema (src/wire) of its JSON answer, shown in the OpenAPI document:
   * every 2xx JSON answer has one (test/unit/openapi-wire.test.ts).
   */
  answers?: Readonly<Record<number, z.ZodType>>;
}

/** The validated parts of a request. */
export interface Parsed<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
}

/** The first issue as `<where>.<path>: <message>`. */
export function issueText(error: z.ZodError, where: string): string {
  const issue = error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  return `${path === '' ? where : `${where}.${path}`}: ${issue?.message ?? 'invalid'}`;
}

/** Parse `value` with `schema`, or throw a UsageError (400) naming the field. */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(issueText(result.error, where));
  return result.data;
}

/** A fastify handler that validates params, query and body by the spec, then calls `handle`. */
export function routeFromSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  spec: RouteSpec<P, Q, B>,
  handle: (parsed: Parsed<P, Q, B>, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): RouteHandlerMethod {
  return async (req, reply) => {
    const parsed = {
      params: spec.params ? validate(spec.params, req.params, 'params') : undefined,
      query: spec.query ? validate(spec.query, req.query, 'query') : undefined,
      body: spec.body ? validate(spec.body, req.body ?? undefined, 'body') : undefined,
    } as Parsed<P, Q, B>;
    return handle(parsed, req, reply);
  };
}
