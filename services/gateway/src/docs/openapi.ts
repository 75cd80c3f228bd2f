import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { problemSchema } from '../common/problem.schema.js';
import { buildAsyncApiDocument } from './asyncapi.js';
import { componentSchemas, jsonSchema, problemResponse } from '../common/json-schema.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export const API_TAGS: Record<string, string> = {
  auth: 'Log in, refresh the session, and who am I.',
  ai: 'The clinic assistant: one chat turn (JSON or Server-Sent Events), cancel, and your conversations.',
  patients: "Patients of the caller's clinic, with LGPD export and erasure.",
  consents: "A patient's LGPD consents.",
  appointments: 'The agenda: list, book (idempotent), reschedule, change status.',
  professionals: "The clinic's professionals.",
  audit: 'The LGPD audit trail (admins).',
};

export interface OpenApiOptions {
  /** Public base URL of the API (`PUBLIC_URL`); unset = relative to where the document is served. */
  publicUrl?: string;
}

/**
 * The OpenAPI 3.1 document of the REST API, from the controllers' route metadata and the zod
 * schemas their pipes validate with. Works on an app created in preview mode too (nothing is
 * instantiated), which is how the client generator builds it.
 */
export function buildOpenApiDocument(app: INestApplication, opts: OpenApiOptions = {}): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('NeonPro API')
    .setDescription(
      'Gateway API of the NeonPro clinic assistant. Errors are RFC 9457 problem+json with a stable `code` ' +
        '(the `Problem` schema lists them). Log in with `POST /v1/auth/login` and send the access token as ' +
        '`Authorization: Bearer <token>`. Every answer carries `X-Request-Id`. The realtime chat (Socket.IO) is ' +
        'described by the AsyncAPI document at `/docs/asyncapi.json`.',
    )
    .setVersion('1')
    .addServer(opts.publicUrl ?? '/', opts.publicUrl ? 'This deployment' : 'The server serving this document')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer');
  for (const [name, description] of Object.entries(API_TAGS)) {
    builder.addTag(name, description);
  }
  const document = SwaggerModule.createDocument(app, builder.build(), {
    // Fallback only: every operation names itself in @ApiOperation({ operationId }).
    operationIdFactory: (controller, method) => `${method}${controller.replace(/Controller$/, '')}`,
  });
  return completeDocument(document);
}

/** Adds the shared `Problem` schema and the problems every operation can answer. */
export function completeDocument(document: OpenAPIObject): OpenAPIObject {
  jsonSchema(problemSchema, 'output');
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...componentSchemas() },
    headers: {
      ...document.components?.headers,
      'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } },
    },
  };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) {
        continue;
      }
      const add = (status: number): void => {
        op.responses[String(status)] ??= problemResponse(status);
      };
      // Public unless the controller says @ApiBearerAuth(); the contract test calls every
      // operation without a token, so a protected route documented as public fails it.
      op.security ??= [];
      const secured = op.security.length > 0;
      if ((op.parameters?.length ?? 0) > 0 || op.requestBody) {
        add(400);
      }
      if (secured) {
        add(401);
        add(403);
      }
      if (/\{[^}]+\}/.test(path)) {
        add(404);
      }
      if (op.requestBody) {
        add(413);
        add(415);
      }
      // Every route has a rate-limit tier, and every one reaches Postgres or Supabase Auth.
      add(429);
      add(503);
    }
  }
  return document;
}

/**
 * Swagger UI at /docs, the REST document at /docs/openapi.json and the realtime chat's AsyncAPI
 * document at /docs/asyncapi.json. These are plain Fastify routes (not Nest controllers), so no
 * guard or rate-limit tier applies to them. Both documents are built on their first request:
 * built at startup they cost every replica ~5 MB of RSS that few ever serve.
 */
export function setupOpenApi(app: INestApplication, opts: OpenApiOptions = {}): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, opts), {
    jsonDocumentUrl: 'docs/openapi.json',
    yamlDocumentUrl: 'docs/openapi.yaml',
  });
  let asyncapi: string | undefined;
  (app.getHttpAdapter().getInstance() as FastifyInstance).get('/docs/asyncapi.json', (_req, reply) => {
    asyncapi ??= JSON.stringify(buildAsyncApiDocument(opts));
    void reply.type('application/json; charset=utf-8').send(asyncapi);
  });
}
