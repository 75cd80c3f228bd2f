import { hostname } from 'node:os';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type GatewayConfig, gatewayConfigSchema, loadConfig } from '@neonpro/config';
import { createLogger, resolveRequestId } from '@neonpro/observability';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import { setupOpenApi } from './docs/openapi.js';
import { GatewayModule } from './gateway.module.js';
import { GatewayMetrics } from './metrics/gateway-metrics.service.js';

export interface GatewayApp {
  app: NestFastifyApplication;
  config: GatewayConfig & { instanceId: string };
  port: number;
  close(): Promise<void>;
}

/** Builds and starts one gateway replica. */
export async function startGateway(env: Record<string, string | undefined> = process.env): Promise<GatewayApp> {
  const parsed = loadConfig('gateway', gatewayConfigSchema, env);
  const config = { ...parsed, instanceId: `${hostname()}-${process.pid}-${parsed.PORT}` };
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL, instance: config.instanceId });

  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      resolveRequestId(req.headers['x-request-id']),
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config, logger), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  installFastifyHooks(app.getHttpAdapter().getInstance(), app.get(GatewayMetrics));
  setupOpenApi(app);

  await app.listen(config.PORT, config.HOST);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info({ port, nats: config.NATS_URL, subject_prefix: config.NATS_SUBJECT_PREFIX }, 'gateway ready');
  return { app, config, port, close: () => app.close() };
}

function installFastifyHooks(fastify: FastifyInstance, metrics: GatewayMetrics): void {
  // The API speaks JSON only: other bodies get 415 instead of reaching validation as strings.
  fastify.removeContentTypeParser(['text/plain']);
  fastify.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    void reply.header('X-Request-Id', String(req.id));
  });
  fastify.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    // Route templates keep label cardinality bounded; unmatched paths collapse to one label.
    const route = req.routeOptions.url ?? 'unmatched';
    const labels = { route, method: req.method, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
}
