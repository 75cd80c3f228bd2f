import { hostname } from 'node:os';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AgentConfig, agentConfigSchema, loadConfig } from '@neonpro/config';
import { createLogger } from '@neonpro/observability';
import { Logger } from 'nestjs-pino';
import { AgentModule } from './agent.module.js';
import { AgentNatsServer } from './nats/agent-nats.server.js';

export interface AgentApp {
  app: NestFastifyApplication;
  config: AgentConfig & { instanceId: string };
  /** The ops HTTP port actually bound (useful when PORT=0). */
  port: number;
  close(): Promise<void>;
}

/** Builds and starts one agent replica: NATS consumer plus the ops HTTP server. */
export async function startAgent(env: Record<string, string | undefined> = process.env): Promise<AgentApp> {
  const parsed = loadConfig('ai-agent', agentConfigSchema, env);
  const config = { ...parsed, instanceId: parsed.AGENT_INSTANCE_ID ?? `${hostname()}-${process.pid}` };
  const logger = createLogger({ service: 'ai-agent', level: config.LOG_LEVEL, instance: config.instanceId });
  const server = new AgentNatsServer({
    servers: config.NATS_URL,
    subjectPrefix: config.NATS_SUBJECT_PREFIX,
    name: `ai-agent:${config.instanceId}`,
  });

  const app = await NestFactory.create<NestFastifyApplication>(
    AgentModule.forRoot(config, server, logger),
    new FastifyAdapter({ bodyLimit: 16 * 1024 }),
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.HOST);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info({ port, nats: config.NATS_URL, subject_prefix: config.NATS_SUBJECT_PREFIX }, 'ai-agent ready');

  return { app, config, port, close: () => app.close() };
}
