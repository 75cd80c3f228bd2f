import { type DynamicModule, Module } from '@nestjs/common';
import { NATS_HEADERS } from '@neonpro/contracts';
import {
  httpLoggerParams,
  OpsModule,
  parseTraceparent,
  resolveRequestId,
  sanitizeClientRequestId,
} from '@neonpro/observability';
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
import type { JetStreamRunContext } from './nats/jetstream-run.context.js';
import { CALLER_DIRECTORY, type CallerDirectory } from './caller/caller-directory.port.js';
import { RunCallerService } from './caller/run-caller.service.js';

interface RpcContextLike {
  switchToRpc(): { getContext<T>(): T };
}

function natsHeader(ctx: RpcContextLike, name: string): string | undefined {
  try {
    return ctx.switchToRpc().getContext<JetStreamRunContext>().header(name);
  } catch {
    return undefined;
  }
}

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
        LoggerModule.forRoot({
          ...httpLoggerParams(logger),
          microservice: {
            // The gateway's request id and trace id follow the run into every agent log line.
            genReqId: (ctx) => resolveRequestId(natsHeader(ctx, NATS_HEADERS.requestId)),
            customProps: (ctx) => {
              const trace = parseTraceparent(natsHeader(ctx, NATS_HEADERS.traceparent));
              const client = sanitizeClientRequestId(natsHeader(ctx, NATS_HEADERS.clientRequestId));
              return {
                ...(trace ? { trace_id: trace.traceId, span_id: trace.spanId } : {}),
                ...(client ? { client_request_id: client } : {}),
              };
            },
            customAttributeKeys: { reqId: 'request_id' },
            // Not quietResLogger: its "message completed" line would drop the trace props above.
          },
        }),
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
