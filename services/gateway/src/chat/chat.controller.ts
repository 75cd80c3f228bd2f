import { Body, Controller, Get, Headers, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  type ChatRequestBody,
  chatRequestBodySchema,
  ErrorCode,
  type RelayedRunEvent,
  toChatProposal,
} from '@neonpro/contracts';
import { childTrace } from '@neonpro/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { ProblemException } from '../common/problem.js';
import { exemptFromIdleTimeout, serverTimingHeader, timed } from '../common/server-timing.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { ApiParamsFrom, ApiProblems, ApiQueryFrom, schemaRef } from '../common/json-schema.js';
import { StreamTracker } from '../lifecycle/stream-tracker.service.js';
import { ChargesAiBudget } from '../plans/ai-budget.decorator.js';
import { FailsFastWhileAgentDown } from '../edge/agent-fail-fast.js';
import { RateLimitTier } from '../rate-limit/rate-limit-tier.decorator.js';
import { chatRequestDocSchema, chatResponseDocSchema } from './chat-sessions.schema.js';
import { ChatTurnService } from './chat-turn.service.js';
import { wantsEventStream } from './content-negotiation.js';
import { SseWriter } from './sse-writer.js';
import { auditIdsOf } from '../common/audit-request-id.js';

const eventsParamSchema = z.strictObject({ message_id: z.uuid() });
const eventsQuerySchema = z.strictObject({ after: z.coerce.number().int().min(0).optional() });
const lastEventIdSchema = z.coerce.number().int().min(0);

const SSE_DESCRIPTION =
  'Server-Sent Events, each with `id:` (its sequence number): `event: tool` `{name, status}`, `event: token` ' +
  '`{delta}`, `event: restart` `{}` (drop the partial text: the run restarted), `event: proposal` ' +
  '`{proposal_id, action, summary, expires_at}` (a write to confirm with `confirm: {proposal_id}`), then `event: done` ' +
  '`{session_id, message_id, content}` or `event: error` `{code, message}`.';

@ApiTags('ai')
@ApiBearerAuth()
@Controller('v1/ai')
@RateLimitTier('ai')
@UseGuards(JwtAuthGuard)
export class ChatController {
  constructor(
    private readonly turns: ChatTurnService,
    private readonly streams: StreamTracker,
  ) {}

  /** One chat turn: JSON answer, or the answer streamed as Server-Sent Events. */
  @Post('chat')
  @ApiOperation({
    operationId: 'chat',
    summary: 'One chat turn with the assistant: the answer as JSON, or streamed as Server-Sent Events',
    description:
      `With \`Accept: text/event-stream\` the answer streams as SSE. ${SSE_DESCRIPTION} \`X-Message-Id\` ` +
      '(sent with the headers) is what `cancelChatMessage` and `resumeChatEvents` take. Resending the same ' +
      '`client_message_id` replays the stored answer instead of running twice.',
  })
  @ApiBody({ schema: schemaRef(chatRequestDocSchema, 'input') })
  @ApiOkResponse({
    description: 'The answer.',
    headers: { 'X-Message-Id': { description: 'Id of this turn.', schema: { type: 'string', format: 'uuid' } } },
    content: {
      'application/json': { schema: schemaRef(chatResponseDocSchema) },
      'text/event-stream': { schema: { type: 'string', description: SSE_DESCRIPTION } },
    },
  })
  @ApiProblems(
    [404, 'The session is not the caller’s (`not_found`).'],
    [409, 'The run was cancelled before it answered (`cancelled`).'],
    502,
    504,
  )
  @ChargesAiBudget()
  @FailsFastWhileAgentDown()
  async chat(
    @Body(new ZodValidationPipe(chatRequestBodySchema, 'chat request')) body: ChatRequestBody,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // AGENT_TIMEOUT_MS bounds every silence of this request, not the socket idle timeout.
    exemptFromIdleTimeout(req);
    const userId = principalId(req);
    const release = this.streams.begin();
    try {
      const turn = await timed(req, 'upstream', () =>
        this.turns.open(body, {
          userId,
          ...auditIdsOf(req),
          traceparent: childTrace(req.headers.traceparent).traceparent,
        }),
      );
      // The turn's public id: what the client cancels and reattaches with.
      void reply
        .header('X-Message-Id', turn.messageId)
        .header('Server-Timing', serverTimingHeader(req, reply.elapsedTime));
      try {
        if (wantsEventStream(req.headers.accept)) {
          await this.relaySse(req, reply, turn.messageId, turn.sessionId, turn.first, turn.events);
        } else {
          const { content, proposal } = await this.turns.collect(turn);
          void reply
            .status(200)
            .header('Cache-Control', 'no-store')
            .header('Server-Timing', serverTimingHeader(req, reply.elapsedTime))
            .send({
              session_id: turn.sessionId,
              message_id: turn.messageId,
              content,
              ...(proposal ? { proposal } : {}),
            });
        }
      } finally {
        await turn.events.return(undefined);
      }
    } finally {
      release();
    }
  }

  /**
   * Reattaches to a running or recently finished turn (SSE): the events after `Last-Event-ID`
   * (or `?after=N`), then live ones, ending with `done` or `error`. Owner only; else 404.
   */
  @Get('chat/:message_id/events')
  @ApiOperation({
    operationId: 'resumeChatEvents',
    summary: 'Resumes the event stream of the caller’s chat message (Last-Event-ID or ?after=N)',
  })
  @ApiParamsFrom(eventsParamSchema)
  @ApiQueryFrom(eventsQuerySchema)
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'The `id:` of the last event received (as EventSource sends it); wins over a smaller `after`.',
    schema: { type: 'integer', minimum: 0 },
  })
  @ApiOkResponse({
    description: 'The events after the given id, then the live ones.',
    content: { 'text/event-stream': { schema: { type: 'string', description: SSE_DESCRIPTION } } },
  })
  async events(
    @Param(new ZodValidationPipe(eventsParamSchema, 'path')) p: { message_id: string },
    @Query(new ZodValidationPipe(eventsQuerySchema, 'query')) q: { after?: number },
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    exemptFromIdleTimeout(req);
    let after = q.after ?? 0;
    if (lastEventId !== undefined && lastEventId !== '') {
      const parsed = lastEventIdSchema.safeParse(lastEventId);
      if (!parsed.success) {
        throw new ProblemException(400, ErrorCode.InvalidRequest, 'Last-Event-ID must be an event id (a number).');
      }
      after = Math.max(after, parsed.data);
    }
    const userId = principalId(req);
    const sessionId = await this.turns.sessionOf(userId, p.message_id);
    const events = await this.turns.attach(userId, p.message_id, after);
    const release = this.streams.begin();
    try {
      void reply.header('X-Message-Id', p.message_id);
      const r = await events.next().catch((err: unknown) => {
        throw this.turns.streamFailure(err, p.message_id);
      });
      if (r.done) {
        throw new ProblemException(404, ErrorCode.NotFound, 'No chat message with this id.');
      }
      await this.relaySse(req, reply, p.message_id, sessionId, r.value, events);
    } finally {
      release();
      await events.return(undefined);
    }
  }

  private async relaySse(
    req: FastifyRequest,
    reply: FastifyReply,
    messageId: string,
    sessionId: string,
    first: RelayedRunEvent,
    events: AsyncGenerator<RelayedRunEvent, void, undefined>,
  ): Promise<void> {
    // Echoes the client's X-Request-Id like every other answer (ours when they sent none).
    const sse = new SseWriter(reply, auditIdsOf(req).clientRequestId ?? String(req.id));
    let clientGone = false;
    req.raw.once('close', () => {
      if (!reply.raw.writableFinished) {
        clientGone = true;
      }
    });
    let event: RelayedRunEvent | undefined = first;
    try {
      while (event && !clientGone) {
        switch (event.type) {
          case 'token':
            sse.send('token', { delta: event.delta }, event.seq);
            break;
          case 'tool':
            sse.send('tool', { name: event.name, status: event.status }, event.seq);
            break;
          case 'restart':
            // A redelivered run diverged from what was streamed: drop the partial text.
            sse.send('restart', {}, event.seq);
            break;
          case 'proposal':
            sse.send('proposal', toChatProposal(event), event.seq);
            break;
          case 'done':
            sse.send('done', { session_id: sessionId, message_id: messageId, content: event.content }, event.seq);
            return;
          case 'error':
            sse.send('error', { code: event.code, message: event.message }, event.seq);
            return;
        }
        const r = await events.next();
        event = r.done ? undefined : r.value;
      }
      if (!event && !clientGone) {
        sse.send('error', { code: ErrorCode.AgentFailed, message: 'The stream ended early.' });
      }
    } catch (err) {
      const problem = this.turns.streamFailure(err, messageId);
      sse.send('error', { code: problem.code, message: problem.detail });
    } finally {
      sse.end();
    }
  }
}

function principalId(req: FastifyRequest): string {
  const id = req.principal?.user_id;
  if (!id) {
    throw new ProblemException(401, ErrorCode.Unauthorized, 'Authentication is required.');
  }
  return id;
}
