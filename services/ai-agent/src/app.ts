import { hostname } from 'node:os';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AgentConfig, agentConfigSchema, loadConfig } from '@neonpro/config';
import { Database } from '@neonpro/database';
import { createLogger } from '@neonpro/observability';
import { Logger } from 'nestjs-pino';
import { AgentModule } from './agent.module.js';
import { AgentMetrics } from './chat/agent-metrics.service.js';
import { ChatController } from './chat/chat.controller.js';
import type { ChatModelFactory } from './chat/chat.service.js';
import type { ConversationStore } from './conversation/conversation-store.port.js';
import { createChatModel } from './models/model-factory.js';
import type { ClinicDataPort } from './tools/clinic-data.port.js';
import { agentBus } from '@neonpro/contracts';
import type { CallerDirectory } from './caller/caller-directory.port.js';
import { JetStreamAgentServer } from './nats/jetstream-agent.server.js';
import { PostgresCallerDirectory } from './persistence/postgres-caller-directory.js';
import { PostgresClinicData } from './persistence/postgres-clinic-data.js';
import { PostgresConversationStore } from './persistence/postgres-conversation-store.js';

export interface AgentApp {
  app: NestFastifyApplication;
  config: AgentConfig & { instanceId: string };
  /** The ops HTTP port actually bound (useful when PORT=0). */
  port: number;
  close(): Promise<void>;
}

/**
 * What the agent reads and writes through. Unset ports are the Postgres adapters over
 * `@neonpro/database` (DATABASE_URL), which is what production runs; tests may inject others.
 */
export interface AgentPorts {
  clinicData?: ClinicDataPort;
  conversations?: ConversationStore;
  /** Replaces how chat models are built (tests); defaults to {@link createChatModel}. */
  modelFactory?: ChatModelFactory;
  /** Clinic and role of a verified user; defaults to clinic_members in Postgres. */
  callers?: CallerDirectory;
}

/** Builds and starts one agent replica: JetStream consumer plus the ops HTTP server. */
export async function startAgent(
  env: Record<string, string | undefined> = process.env,
  ports: AgentPorts = {},
): Promise<AgentApp> {
  const parsed = loadConfig('ai-agent', agentConfigSchema, env);
  const config = { ...parsed, instanceId: parsed.AGENT_INSTANCE_ID ?? `${hostname()}-${process.pid}` };
  const database =
    ports.clinicData && ports.conversations && ports.callers
      ? undefined
      : new Database({
          url: config.DATABASE_URL,
          poolMax: config.DB_POOL_MAX,
          statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
          applicationName: 'neonpro-ai-agent',
        });
  const clinicData = ports.clinicData ?? new PostgresClinicData(database!);
  const conversations = ports.conversations ?? new PostgresConversationStore(database!);
  const callers = ports.callers ?? new PostgresCallerDirectory(database!);
  const logger = createLogger({ service: 'ai-agent', level: config.LOG_LEVEL, instance: config.instanceId });
  let metricsHook: { inflight?: (n: number) => void; invalid?: () => void } = {};
  const server = new JetStreamAgentServer({
    nats: config,
    bus: agentBus(config.NATS_SUBJECT_PREFIX),
    name: `ai-agent:${config.instanceId}`,
    instance: config.instanceId,
    concurrency: config.AGENT_CONCURRENCY,
    ackWaitMs: config.AGENT_ACK_WAIT_MS,
    maxDeliver: config.AGENT_MAX_DELIVER,
    provision: config.NATS_PROVISION_STREAMS,
    eventsStorage: config.AGENT_EVENTS_STORAGE,
    tokenFlushMs: config.AGENT_TOKEN_FLUSH_MS,
    tokenFlushBytes: config.AGENT_TOKEN_FLUSH_BYTES,
    onInvalid: () => metricsHook.invalid?.(),
  });

  const app = await NestFactory.create<NestFastifyApplication>(
    AgentModule.forRoot(config, server, logger, {
      clinicData,
      conversations,
      modelFactory: ports.modelFactory ?? createChatModel,
      callers,
    }),
    new FastifyAdapter({ bodyLimit: 16 * 1024 }),
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  const metrics = app.get(AgentMetrics);
  metricsHook = { invalid: () => metrics.invalidMessages.inc() };
  const chat = app.get(ChatController);
  server.handleRunsWith((request, ctx) => chat.run(request, ctx));
  const depthTimer = setInterval(() => {
    void server.queueDepth().then((d) => d !== undefined && metrics.queueDepth.set(d));
  }, 2000);
  depthTimer.unref();
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  try {
    await app.startAllMicroservices();
    await app.listen(config.PORT, config.HOST);
  } catch (err) {
    // A refused boot (a port in use, a module failing to start) releases what the modules opened.
    clearInterval(depthTimer);
    await app.close().catch(() => undefined);
    await database?.close().catch(() => undefined);
    throw err;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info({ port, nats: config.NATS_URL, subject_prefix: config.NATS_SUBJECT_PREFIX }, 'ai-agent ready');

  return {
    app,
    config,
    port,
    close: async () => {
      clearInterval(depthTimer);
      await app.close();
      await database?.close();
    },
  };
}
