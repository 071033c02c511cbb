/**
 * The OpenAPI document shows the wire schemas (src/wire) of the answers: every 2xx JSON answer of
 * the admin API has its schema, and the document's is generated from it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ADMIN_SPECS,
  answerSchemaOf,
  openApiDocument,
  openApiPath,
} from '../../src/http/openapi.js';
import { parseWebhook } from '../../src/producers/breaker/webhook-events.js';
import { errorSchema } from '../../src/wire/index.js';

/** Answers that are not JSON (the report streams CSV or NDJSON). */
const NOT_JSON = new Set(['GET /batches/:id/report 200']);

type Doc = {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: { schemas: { Error: unknown } };
};

describe('the OpenAPI document and the wire schemas', () => {
  const doc = openApiDocument('/v1') as unknown as Doc;

  it('every 2xx JSON answer of the admin API is documented with its wire schema', () => {
    const missing: string[] = [];
    for (const spec of ADMIN_SPECS) {
      for (const status of Object.keys(spec.responses).map(Number)) {
        const name = `${spec.method} ${spec.path} ${status}`;
        if (status >= 300 || NOT_JSON.has(name)) continue;
        const schema = spec.answers?.[status];
        if (!schema) {
          missing.push(name);
          continue;
        }
        const op = doc.paths[openApiPath(`/v1${spec.path}`)]?.[spec.method.toLowerCase()];
        expect(op?.responses[String(status)], name).toMatchObject({
          content: { 'application/json': { schema: answerSchemaOf(schema) } },
        });
      }
    }
    expect(missing).toEqual([]);
  });

  it('the error envelope is the wire one', () => {
    expect(doc.components.schemas.Error).toEqual(answerSchemaOf(errorSchema));
  });
});

describe('the webhook receiver in the OpenAPI document', () => {
  it('shows the event body it takes and every answer, 202 for a stored event', () => {
    const doc = openApiDocument('/v1') as unknown as {
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: { content: { 'application/json': { schema: { required?: string[] } } } };
            responses: Record<string, unknown>;
          }
        >
      >;
    };
    const op = doc.paths['/webhooks/sendmux']?.post;
    expect(op?.requestBody?.content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['id', 'type', 'occurred_at', 'data']),
    );
    expect(Object.keys(op?.responses ?? {}).sort()).toEqual(['200', '202', '400', '401', '503']);
  });
});

describe("the README's webhook body", () => {
  it('is an event the receiver reads as a hard bounce', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const from = readme.indexOf('What Sendmux posts to `POST /webhooks/sendmux`');
    const body = /```json\n([\s\S]*?)```/.exec(readme.slice(from))?.[1] ?? '';
    const parsed = parseWebhook(body);
    expect(parsed).toMatchObject({ ok: true, outcome: 'bounced' });
    expect(parsed.ok && parsed.event.data.bounce_type).toBe('Permanent');
  });
});
