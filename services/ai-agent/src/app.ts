import { hostname } from 'node:os';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AgentConfig, agentConfigSchema, loadConfig } from '@neonpro/config';
import { createLogger } from '@neonpro/observability';
import { Logger } from 'nestjs-pino';
import { AgentModule } from './agent.module.js';
import type { ChatModelFactory } from './chat/chat.service.js';
import type { ConversationStore } from './conversation/conversation-store.port.js';
import { createChatModel } from './models/model-factory.js';
import type { ClinicDataPort } from './tools/clinic-data.port.js';
import { AgentNatsServer } from './nats/agent-nats.server.js';

export interface AgentApp {
  app: NestFastifyApplication;
  config: AgentConfig & { instanceId: string };
  /** The ops HTTP port actually bound (useful when PORT=0). */
  port: number;
  close(): Promise<void>;
}

/** What the agent reads and writes through; the Postgres adapters (libs/database) in production. */
export interface AgentPorts {
  clinicData?: ClinicDataPort;
  conversations?: ConversationStore;
  /** Replaces how chat models are built (tests); defaults to {@link createChatModel}. */
  modelFactory?: ChatModelFactory;
}

export class MissingPortsError extends Error {
  constructor(missing: string[]) {
    super(
      `ai-agent needs its data ports (${missing.join(', ')}): pass them to startAgent(env, ports). ` +
        'There is deliberately no in-memory fallback: clinic data must come from the database under RLS.',
    );
    this.name = 'MissingPortsError';
  }
}

/** Builds and starts one agent replica: NATS consumer plus the ops HTTP server. */
export async function startAgent(
  env: Record<string, string | undefined> = process.env,
  ports: AgentPorts = {},
): Promise<AgentApp> {
  const parsed = loadConfig('ai-agent', agentConfigSchema, env);
  const missing = [!ports.clinicData && 'clinicData', !ports.conversations && 'conversations'].filter(
    (m): m is string => typeof m === 'string',
  );
  if (missing.length || !ports.clinicData || !ports.conversations) throw new MissingPortsError(missing);
  const config = { ...parsed, instanceId: parsed.AGENT_INSTANCE_ID ?? `${hostname()}-${process.pid}` };
  const logger = createLogger({ service: 'ai-agent', level: config.LOG_LEVEL, instance: config.instanceId });
  const server = new AgentNatsServer({
    servers: config.NATS_URL,
    subjectPrefix: config.NATS_SUBJECT_PREFIX,
    name: `ai-agent:${config.instanceId}`,
  });

  const app = await NestFactory.create<NestFastifyApplication>(
    AgentModule.forRoot(config, server, logger, {
      clinicData: ports.clinicData,
      conversations: ports.conversations,
      modelFactory: ports.modelFactory ?? createChatModel,
    }),
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
