import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * Swagger UI at /docs and the document at /docs/openapi.json. These are plain Fastify routes
 * (not Nest controllers), so no guard or rate-limit tier applies to them.
 */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('NeonPro API')
    .setDescription(
      'Gateway API of the NeonPro clinic assistant. Errors are RFC 9457 problem+json with a stable `code`. ' +
        'Log in with POST /v1/auth/login and send the access token as `Authorization: Bearer <token>`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/openapi.json',
    yamlDocumentUrl: 'docs/openapi.yaml',
  });
}
