import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { gatewayConfigSchema, loadConfig } from '@neonpro/config';
import { createLogger } from '@neonpro/observability';
import { GatewayModule } from '../gateway.module.js';
import { buildOpenApiDocument, type OpenApiOptions } from './openapi.js';

/**
 * The OpenAPI document without a running gateway: the app is created in preview mode (routes and
 * metadata only, no provider is instantiated, nothing connects). Used by the client generator.
 */
export async function buildOpenApiDocumentOffline(opts: OpenApiOptions = {}): Promise<OpenAPIObject> {
  const parsed = loadConfig('gateway', gatewayConfigSchema, {});
  const logger = createLogger({ service: 'gateway', level: 'silent', instance: 'docs' });
  const app = await NestFactory.create(
    GatewayModule.forRoot({ ...parsed, instanceId: 'docs' }, logger),
    new FastifyAdapter(),
    { preview: true, logger: false, abortOnError: false },
  );
  try {
    return buildOpenApiDocument(app, opts);
  } finally {
    await app.close();
  }
}
