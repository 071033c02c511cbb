/**
 * Sendmux's OpenAPI file (spec/sendmux/openapi-management.json) loaded into ajv (draft 2020-12,
 * as OpenAPI 3.1 is): the response schema the file declares for a path, method and status, and
 * a validator for it. Used by the simulator's contract test and the Prism contract test.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';

const SPEC_ID = 'https://sendmux.test/openapi-management.json';
const specPath = fileURLToPath(
  new URL('../../spec/sendmux/openapi-management.json', import.meta.url),
);

interface ResponseSpec {
  content?: Record<string, { schema?: { $ref?: string } } | undefined>;
}
interface Spec {
  paths: Record<
    string,
    Record<string, { responses: Record<string, ResponseSpec | undefined> } | undefined> | undefined
  >;
}

const spec = JSON.parse(readFileSync(specPath, 'utf8')) as Spec & Record<string, unknown>;
const ajv = new Ajv2020Module.default({ strict: false, allErrors: true, validateFormats: true });
for (const f of ['email', 'date-time', 'uri', 'binary']) ajv.addFormat(f, true);
ajv.addSchema({ ...spec, $id: SPEC_ID });

const cache = new Map<string, ValidateFunction>();

/** A validator of the schema `ref` (`#/components/schemas/...`) of the file. */
export function validatorFor(ref: string): ValidateFunction {
  let v = cache.get(ref);
  if (v === undefined) {
    v = ajv.compile({ $ref: `${SPEC_ID}${ref}` });
    cache.set(ref, v);
  }
  return v;
}

/** The schema $ref the spec declares for (path, method, status), or ApiError when none is declared. */
export function declaredRef(
  path: string,
  method: 'get' | 'post',
  status: number,
): { ref: string; declared: boolean } {
  const ref =
    spec.paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema
      ?.$ref;
  return ref === undefined
    ? { ref: '#/components/schemas/ApiError', declared: false }
    : { ref, declared: true };
}
