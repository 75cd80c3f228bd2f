import { type DynamicModule, Module } from '@nestjs/common';
import { httpLoggerParams, OpsModule } from '@neonpro/observability';
import type { Logger } from 'pino';
import { LoggerModule } from 'nestjs-pino';
import { AGENT_CONFIG, type AgentRuntimeConfig } from './agent.config.js';
import { AgentMetrics } from './chat/agent-metrics.service.js';
import { ChatController } from './chat/chat.controller.js';
import { CHAT_MODEL_FACTORY, type ChatModelFactory, ChatService } from './chat/chat.service.js';
import { CONVERSATION_STORE, type ConversationStore } from './conversation/conversation-store.port.js';
import { CLINIC_DATA_PORT, type ClinicDataPort } from './tools/clinic-data.port.js';
import { RunRegistry } from './chat/run-registry.service.js';
import { AgentLifecycle } from './lifecycle/agent-lifecycle.service.js';
import { AGENT_NATS_SERVER } from './nats/agent-nats.tokens.js';
import type { JetStreamAgentServer } from './nats/jetstream-agent.server.js';
import { CALLER_DIRECTORY, type CallerDirectory } from './caller/caller-directory.port.js';
import { RunCallerService } from './caller/run-caller.service.js';

@Module({})
export class AgentModule {
  static forRoot(
    config: AgentRuntimeConfig,
    server: JetStreamAgentServer,
    logger: Logger,
    ports: {
      clinicData: ClinicDataPort;
      conversations: ConversationStore;
      modelFactory: ChatModelFactory;
      callers: CallerDirectory;
    },
  ): DynamicModule {
    return {
      module: AgentModule,
      imports: [
        // No `microservice` hook: a run's log context is set where the transport hands it over
        // (ChatController.run), with one child logger instead of the hook's three.
        LoggerModule.forRoot(httpLoggerParams(logger)),
        OpsModule.forRoot('ai-agent', config.instanceId),
      ],
      controllers: [ChatController],
      providers: [
        { provide: AGENT_CONFIG, useValue: config },
        { provide: AGENT_NATS_SERVER, useValue: server },
        { provide: CLINIC_DATA_PORT, useValue: ports.clinicData },
        { provide: CONVERSATION_STORE, useValue: ports.conversations },
        { provide: CHAT_MODEL_FACTORY, useValue: ports.modelFactory },
        { provide: CALLER_DIRECTORY, useValue: ports.callers },
        RunCallerService,
        RunRegistry,
        AgentMetrics,
        ChatService,
        AgentLifecycle,
      ],
    };
  }
}
