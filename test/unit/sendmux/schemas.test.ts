/** The zod schemas must match Sendmux's OpenAPI file field for field. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  API_ERROR_CODES,
  PROVIDER_STATUSES,
  PROVIDER_TYPES,
  providerItemSchema,
} from '../../../src/sendmux/schemas.js';

interface JsonSchema {
  properties: Record<
    string,
    {
      enum?: string[];
      type?: string | string[];
      $ref?: string;
      properties?: Record<string, { enum?: string[] }>;
    }
  >;
  required: string[];
}
const spec = JSON.parse(
  readFileSync(new URL('../../../spec/sendmux/openapi-management.json', import.meta.url), 'utf8'),
) as {
  components: { schemas: Record<string, JsonSchema> };
};
const schemas = spec.components.schemas;
const providerItem = schemas.ProviderItem as JsonSchema;

describe('ProviderItem schema vs OpenAPI', () => {
  it('has exactly the spec fields, all required', () => {
    expect(Object.keys(providerItemSchema.shape).sort()).toEqual(
      Object.keys(providerItem.properties).sort(),
    );
    expect(providerItem.required.sort()).toEqual(Object.keys(providerItem.properties).sort());
  });

  it('uses the spec enums', () => {
    expect([...PROVIDER_STATUSES].sort()).toEqual(providerItem.properties.status?.enum?.sort());
    expect([...PROVIDER_TYPES].sort()).toEqual(providerItem.properties.type?.enum?.sort());
    const errorCodes = (schemas.ApiError as JsonSchema).properties.error?.properties?.code?.enum;
    expect([...API_ERROR_CODES].sort()).toEqual(errorCodes?.sort());
  });

  it('nullability matches the spec', () => {
    for (const [field, def] of Object.entries(providerItem.properties)) {
      const nullableInSpec = Array.isArray(def.type) && def.type.includes('null');
      const zodField = providerItemSchema.shape[field as keyof typeof providerItemSchema.shape];
      expect(zodField.safeParse(null).success, field).toBe(nullableInSpec);
    }
  });

  it('rejects an item missing a required field', () => {
    const partial = z.object(providerItemSchema.shape).safeParse({ id: 'dprov_x' });
    expect(partial.success).toBe(false);
  });
});
