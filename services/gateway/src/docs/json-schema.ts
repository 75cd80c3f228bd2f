import { applyDecorators } from '@nestjs/common';
import { ApiQuery, type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/** A zod schema as an OpenAPI 3.0 schema object, so the docs never drift from validation. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

/** One @ApiQuery per property of a zod object schema. */
export function ApiQueryFrom(schema: z.ZodType): MethodDecorator {
  const s = jsonSchema(schema) as { properties?: Record<string, SchemaObject>; required?: string[] };
  const decorators = Object.entries(s.properties ?? {}).map(([name, prop]) =>
    ApiQuery({ name, required: s.required?.includes(name) ?? false, schema: prop }),
  );
  return applyDecorators(...decorators);
}
