import { randomUUID } from 'node:crypto';
import { Body, Controller, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  type AgentChatRequest,
  type AgentEvent,
  type ChatRequestBody,
  chatRequestBodySchema,
  ErrorCode,
} from '@neonpro/contracts';
import { childTrace, HealthRegistry } from '@neonpro/observability';
import { PolicyRegistry } from '@neonpro/resilience';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { callerClaims } from '../auth/caller-claims.js';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { ProblemException } from '../common/problem.js';
import { exemptFromIdleTimeout, serverTimingHeader, timed } from '../common/server-timing.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { StreamTracker } from '../lifecycle/stream-tracker.service.js';
import { RateLimitTier } from '../rate-limit/rate-limit-tier.decorator.js';
import { type AgentCallContext, AgentCallError, AgentClient } from './agent-client.service.js';
import { agentErrorToProblem, callErrorToProblem, openAgentCall } from './agent-errors.js';
import { wantsEventStream } from './content-negotiation.js';
import { RunningChats } from './running-chats.service.js';
import { SseWriter } from './sse-writer.js';
import { auditIdsOf } from '../common/audit-request-id.js';

@Controller('v1/ai')
@RateLimitTier('ai')
@UseGuards(JwtAuthGuard)
export class ChatController {
  constructor(
    private readonly agent: AgentClient,
    private readonly streams: StreamTracker,
    private readonly health: HealthRegistry,
    private readonly policies: PolicyRegistry,
    private readonly running: RunningChats,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayRuntimeConfig,
  ) {}

  /** One chat turn: JSON answer, or the answer streamed as Server-Sent Events. */
  @Post('chat')
  async chat(
    @Body(new ZodValidationPipe(chatRequestBodySchema, 'chat request')) body: ChatRequestBody,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (this.health.isShuttingDown) {
      throw new ProblemException(503, ErrorCode.ShuttingDown, 'This gateway is restarting; retry.', { retryAfter: 1 });
    }
    // AGENT_TIMEOUT_MS bounds every silence of this request, not the socket idle timeout.
    exemptFromIdleTimeout(req);
    const sessionId = body.session_id ?? randomUUID();
    const ctx: AgentCallContext = {
      ...auditIdsOf(req),
      traceparent: childTrace(req.headers.traceparent).traceparent,
      caller: callerClaims(req),
    };
    // The turn's public id (X-Message-Id): what the client cancels with, whichever attempt runs.
    const messageId = randomUUID();
    const tracked = this.running.begin(ctx.caller.sub, [
      messageId,
      ...(body.client_message_id ? [body.client_message_id] : []),
    ]);
    void reply.header('X-Message-Id', messageId);
    const release = this.streams.begin();
    let events: AsyncGenerator<AgentEvent> | undefined;
    try {
      // Wait for the first event before committing a status, so early failures are proper problems.
      const opened = await timed(req, 'upstream', () =>
        this.open(
          { session_id: sessionId, message: body.message, client_message_id: body.client_message_id },
          ctx,
          // Safe to resend only when the agent can dedupe it (client_message_id), and only before
          // anything reached the client: a started stream is never retried.
          body.client_message_id !== undefined,
          (attempt) => {
            if (tracked.entry.cancelled) throw new ProblemException(409, ErrorCode.Cancelled, 'The run was cancelled.');
            // The first attempt carries the public id; a retry gets its own (see open()).
            const id = attempt === 0 ? messageId : randomUUID();
            tracked.entry.attemptId = id;
            return id;
          },
        ),
      );
      events = opened.events;
      const first = opened.first;
      if (first.type === 'error') throw this.agentErrorToProblem(first);
      void reply.header('Server-Timing', serverTimingHeader(req, reply.elapsedTime));
      if (wantsEventStream(req.headers.accept)) {
        await this.relaySse(req, reply, events, first, sessionId, messageId);
      } else {
        const content = await this.collect(events, first);
        void reply
          .status(200)
          .header('Cache-Control', 'no-store')
          .header('Server-Timing', serverTimingHeader(req, reply.elapsedTime))
          .send({ session_id: sessionId, message_id: messageId, content });
      }
    } finally {
      tracked.end();
      release();
      await events?.return(undefined);
    }
  }

  private open(
    turn: Omit<AgentChatRequest, 'message_id'>,
    ctx: AgentCallContext,
    retry: boolean,
    attemptId: (attempt: number) => string,
  ): Promise<{ events: AsyncGenerator<AgentEvent>; first: AgentEvent; messageId: string }> {
    return openAgentCall(this.agent, this.policies, turn, ctx, {
      retry,
      retryAfterS: this.config.AGENT_RETRY_AFTER_S,
      attemptId,
    });
  }

  private async next(events: AsyncGenerator<AgentEvent>): Promise<AgentEvent> {
    try {
      const r = await events.next();
      if (r.done) throw new AgentCallError('protocol', 'The assistant ended the stream without an answer.');
      return r.value;
    } catch (err) {
      throw this.callErrorToProblem(err);
    }
  }

  private async collect(events: AsyncGenerator<AgentEvent>, first: AgentEvent): Promise<string> {
    let event = first;
    for (;;) {
      if (event.type === 'done') return event.content;
      if (event.type === 'error') throw this.agentErrorToProblem(event);
      event = await this.next(events);
    }
  }

  private async relaySse(
    req: FastifyRequest,
    reply: FastifyReply,
    events: AsyncGenerator<AgentEvent>,
    first: AgentEvent,
    sessionId: string,
    messageId: string,
  ): Promise<void> {
    // Echoes the client's X-Request-Id like every other answer (ours when they sent none).
    const sse = new SseWriter(reply, auditIdsOf(req).clientRequestId ?? String(req.id));
    let clientGone = false;
    req.raw.once('close', () => {
      if (!reply.raw.writableFinished) clientGone = true;
    });
    let event: AgentEvent | undefined = first;
    try {
      while (event && !clientGone) {
        switch (event.type) {
          case 'token':
            sse.send('token', { delta: event.delta });
            break;
          case 'tool':
            sse.send('tool', { name: event.name, status: event.status });
            break;
          case 'done':
            sse.send('done', { session_id: sessionId, message_id: messageId, content: event.content });
            return;
          case 'error':
            sse.send('error', { code: event.code, message: event.message });
            return;
        }
        const r = await events.next();
        event = r.done ? undefined : r.value;
      }
      if (!event && !clientGone) sse.send('error', { code: ErrorCode.AgentFailed, message: 'The stream ended early.' });
    } catch (err) {
      const problem = this.callErrorToProblem(err);
      sse.send('error', { code: problem.code, message: problem.detail });
    } finally {
      sse.end();
    }
  }

  private callErrorToProblem(err: unknown): ProblemException {
    return callErrorToProblem(err, this.config.AGENT_RETRY_AFTER_S);
  }

  private agentErrorToProblem(event: Extract<AgentEvent, { type: 'error' }>): ProblemException {
    return agentErrorToProblem(event, this.config.AGENT_RETRY_AFTER_S);
  }
}
