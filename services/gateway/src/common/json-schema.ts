import { applyDecorators } from '@nestjs/common';
import { ApiParam, ApiQuery, ApiResponse, type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/**
 * Named schemas (zod `.meta({ id })`) met while converting, hoisted into `components.schemas` by
 * the document builder. Filled when the decorators are evaluated, i.e. when the controllers load.
 */
const components = new Map<string, { json: string; schema: SchemaObject }>();

const REF_PREFIX = '#/components/schemas/';

/**
 * A zod schema as an OpenAPI 3.1 (JSON Schema 2020-12) schema object, so the document never
 * drifts from validation: `input` for what a handler accepts, `output` for what it returns.
 * Sub-schemas with an `id` become `$ref`s to `components.schemas`.
 */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  // zod refers to named sub-schemas as #/$defs/<id>; the document keeps them in components.
  const text = JSON.stringify(converted).replaceAll('"#/$defs/', `"${REF_PREFIX}`);
  const {
    $schema: _drop,
    $defs,
    ...rest
  } = JSON.parse(text) as Record<string, unknown> & {
    $defs?: Record<string, SchemaObject>;
  };
  for (const [id, def] of Object.entries($defs ?? {})) {
    registerComponent(id, def);
  }
  return rest;
}

/** A `$ref` to the named schema `schema` (which must carry `.meta({ id })`). */
export function schemaRef(schema: z.ZodType, io: 'input' | 'output' = 'output'): SchemaObject {
  const id = z.globalRegistry.get(schema)?.id;
  if (!id) {
    throw new Error('schemaRef needs a schema with .meta({ id })');
  }
  jsonSchema(schema, io);
  return { $ref: `${REF_PREFIX}${id}` } as SchemaObject;
}

function registerComponent(id: string, schema: SchemaObject): void {
  const json = JSON.stringify(schema);
  const known = components.get(id);
  // The same id converted as input and as output (e.g. with defaults) would describe two shapes.
  if (known && known.json !== json) {
    throw new Error(`schema "${id}" converts differently in two places`);
  }
  components.set(id, { json, schema });
}

/** Every named schema converted so far, for `components.schemas`. */
export function componentSchemas(): Record<string, SchemaObject> {
  return Object.fromEntries([...components].map(([id, c]) => [id, c.schema]));
}

function objectProperties(schema: z.ZodType): { name: string; required: boolean; schema: SchemaObject }[] {
  const s = jsonSchema(schema) as { properties?: Record<string, SchemaObject>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    required: s.required?.includes(name) ?? false,
    schema: prop,
  }));
}

/** One @ApiQuery per property of a zod object schema (the one the handler's pipe validates with). */
export function ApiQueryFrom(schema: z.ZodType): MethodDecorator {
  return applyDecorators(
    ...objectProperties(schema).map((p) => ApiQuery({ name: p.name, required: p.required, schema: p.schema })),
  );
}

/** One path @ApiParam per property of a zod object schema (the one the handler's pipe validates with). */
export function ApiParamsFrom(schema: z.ZodType): MethodDecorator & ClassDecorator {
  return applyDecorators(...objectProperties(schema).map((p) => ApiParam({ name: p.name, schema: p.schema })));
}

/** What each problem status means across the API (the codes are listed in the `Problem` schema). */
export const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (`invalid_request`): `errors[]` names each field.',
  401: 'Missing, invalid or expired access token (`unauthorized`, `token_expired`), or wrong credentials.',
  403: 'Not allowed for this user (`forbidden`).',
  404: 'Not found, or not visible to the caller (`not_found`).',
  406: 'The `Accept` header names no type this operation produces (`not_acceptable`).',
  409: 'Conflicts with the current state (`conflict` or a more precise code).',
  413: 'The body is larger than the limit (`payload_too_large`).',
  415: 'The body is not `application/json` (`unsupported_media_type`).',
  429: 'Rate limited (`rate_limited`) or the clinic’s monthly AI budget is spent (`quota_exceeded`): wait `Retry-After` seconds.',
  502: 'The assistant failed (`agent_failed`).',
  503: 'A dependency is unavailable or the gateway is draining (`upstream_unavailable`, `agent_unavailable`, `agent_overloaded`, `shutting_down`): retry after `Retry-After` seconds.',
  504: 'The assistant did not answer in time (`agent_timeout`).',
};

export const PROBLEM_SCHEMA_REF = `${REF_PREFIX}Problem`;

/** A problem+json response (the shared `Problem` schema), with `Retry-After` where waiting helps. */
export function problemResponse(status: number, description = PROBLEM_DESCRIPTIONS[status] ?? 'Problem.') {
  return {
    description,
    ...(status === 429 || status === 503
      ? { headers: { 'Retry-After': { $ref: '#/components/headers/Retry-After' } } }
      : {}),
    content: { 'application/problem+json': { schema: { $ref: PROBLEM_SCHEMA_REF } } },
  };
}

/**
 * The problems specific to an operation. The common ones (400 for operations with input, 401/403
 * on protected ones, 404 with path parameters, 413/415 with a body, 429, 503) are added to every
 * operation by the document builder.
 */
export function ApiProblems(...statuses: (number | [number, string])[]): MethodDecorator {
  return applyDecorators(
    ...statuses.map((s) => {
      const [status, description] = Array.isArray(s) ? s : [s, undefined];
      const r = problemResponse(status, description);
      // Nest's typings want SchemaObject/ReferenceObject unions; this is the same shape.
      return ApiResponse({ status, ...(r as object) });
    }),
  );
}
