import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  AGENT_PATTERNS,
  type AgentEvent,
  agentCancelRequestSchema,
  agentChatRequestSchema,
  ErrorCode,
  NATS_HEADERS,
  parseCallerClaimsHeader,
} from '@neonpro/contracts';
import type { MsgHdrs } from '@nats-io/transport-node';
import { HealthRegistry, sanitizeClientRequestId } from '@neonpro/observability';
import { PinoLogger } from 'nestjs-pino';
import { type Observable, of } from 'rxjs';
import { MALFORMED_PAYLOAD } from '../nats/agent-nats.server.js';
import { AgentMetrics } from './agent-metrics.service.js';
import { ChatService } from './chat.service.js';
import { RunRegistry } from './run-registry.service.js';

@Controller()
export class ChatController {
  constructor(
    private readonly chat: ChatService,
    private readonly runs: RunRegistry,
    private readonly health: HealthRegistry,
    private readonly metrics: AgentMetrics,
    private readonly logger: PinoLogger,
  ) {}

  @MessagePattern(AGENT_PATTERNS.chat)
  handleChat(@Payload() data: unknown, @Ctx() ctx: NatsContext): Observable<AgentEvent> {
    if (data === MALFORMED_PAYLOAD) return this.reject('The request body is not valid JSON.');
    const parsed = agentChatRequestSchema.safeParse(data);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
      return this.reject(`The request does not match the agent.chat contract (${fields}).`);
    }
    if (this.health.isShuttingDown) {
      return of({ type: 'error', code: ErrorCode.ShuttingDown, message: 'This agent is shutting down.' });
    }
    // Set by the gateway only, after verifying the caller's JWT; no valid claims → `unauthorized`.
    const headers = ctx.getHeaders() as MsgHdrs | undefined;
    return this.chat.stream(
      parsed.data,
      parseCallerClaimsHeader(headers?.get(NATS_HEADERS.claims) || undefined),
      headers?.get(NATS_HEADERS.requestId) || undefined,
      sanitizeClientRequestId(headers?.get(NATS_HEADERS.clientRequestId) || undefined),
    );
  }

  @EventPattern(AGENT_PATTERNS.cancel, { broadcast: true })
  handleCancel(@Payload() data: unknown): void {
    const parsed = agentCancelRequestSchema.safeParse(data);
    if (!parsed.success) {
      this.metrics.invalidMessages.inc();
      return;
    }
    if (this.runs.cancel(parsed.data.message_id))
      this.logger.info({ message_id: parsed.data.message_id }, 'run cancelled');
  }

  private reject(message: string): Observable<AgentEvent> {
    this.metrics.invalidMessages.inc();
    this.logger.warn('rejected an invalid agent.chat request');
    return of({ type: 'error', code: ErrorCode.InvalidMessage, message });
  }
}
