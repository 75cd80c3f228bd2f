// Builds a ChatService without Nest or NATS, to drive whole turns in unit tests.
import { randomUUID } from 'node:crypto';
import { agentConfigSchema, loadConfig } from '@neonpro/config';
import type { AgentCallerClaims, AgentEvent } from '@neonpro/contracts';
import { PinoLogger } from 'nestjs-pino';
import { Registry } from 'prom-client';
import { lastValueFrom, toArray } from 'rxjs';
import { AgentMetrics } from '../../src/chat/agent-metrics.service.js';
import { type ChatModelFactory, ChatService } from '../../src/chat/chat.service.js';
import { RunRegistry } from '../../src/chat/run-registry.service.js';
import { createChatModel } from '../../src/models/model-factory.js';
import type { ConversationStore } from '../../src/conversation/conversation-store.port.js';
import type { ClinicDataPort } from '../../src/tools/clinic-data.port.js';

export interface Harness {
  service: ChatService;
  registry: Registry;
  runs: RunRegistry;
}

export function makeHarness(
  port: ClinicDataPort,
  store: ConversationStore,
  env: Record<string, string> = {},
  factory: ChatModelFactory = createChatModel,
): Harness {
  const parsed = loadConfig('ai-agent', agentConfigSchema, { LOG_LEVEL: 'silent', ...env });
  const config = { ...parsed, instanceId: 'test' };
  const registry = new Registry();
  const runs = new RunRegistry();
  const logger = new PinoLogger({ pinoHttp: { level: 'silent' } });
  const service = new ChatService(runs, new AgentMetrics(registry), logger, config, port, store, factory);
  return { service, registry, runs };
}

export interface Turn {
  events: AgentEvent[];
  content: string;
  tools: string[];
  error?: string;
}

export async function ask(
  h: Harness,
  caller: AgentCallerClaims | undefined,
  message: string,
  sessionId: string = randomUUID(),
  clientMessageId?: string,
  requestId?: string,
): Promise<Turn> {
  const events = await lastValueFrom(
    h.service
      .stream(
        { session_id: sessionId, message_id: randomUUID(), message, client_message_id: clientMessageId },
        caller,
        requestId,
      )
      .pipe(toArray()),
  );
  const last = events.at(-1);
  return {
    events,
    content: last?.type === 'done' ? last.content : '',
    tools: events.flatMap((e) => (e.type === 'tool' && e.status === 'started' ? [e.name] : [])),
    error: last?.type === 'error' ? last.code : undefined,
  };
}
