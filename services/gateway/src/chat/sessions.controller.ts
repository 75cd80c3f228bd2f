import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '@neonpro/contracts';
import type { ChatMessage, ChatSession } from '@neonpro/database';
import type { FastifyRequest } from 'fastify';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { ProblemException } from '../common/problem.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { ApiQueryFrom, jsonSchema } from '../docs/json-schema.js';
import { UserDb } from '../healthcare/user-db.service.js';
import { RateLimitTier } from '../rate-limit/rate-limit-tier.decorator.js';
import {
  cancelParamSchema,
  type ChatMessageView,
  chatMessageViewSchema,
  type ChatSessionView,
  chatSessionViewSchema,
  type PageQuery,
  pageQuerySchema,
  sessionIdParamSchema,
} from './chat-sessions.schema.js';
import { ChatTurnService } from './chat-turn.service.js';
import { z } from 'zod';

const sessionPipe = new ZodValidationPipe(sessionIdParamSchema, 'path');

function sessionView(s: ChatSession): ChatSessionView {
  return { id: s.id, title: s.title, created_at: s.created_at, updated_at: s.updated_at };
}

// Metadata (pending proposals, names to pseudonymise) is the agent's working state, not the API's.
function messageView(m: ChatMessage): ChatMessageView {
  return {
    id: m.id,
    role: m.role,
    content: m.content,
    client_message_id: m.client_message_id,
    created_at: m.created_at,
  };
}

/** The caller's own conversations (RLS: a session is its owner's only; anyone else gets 404). */
@ApiTags('ai')
@ApiBearerAuth()
@Controller('v1/ai')
@UseGuards(JwtAuthGuard)
@RateLimitTier('ai')
export class SessionsController {
  constructor(
    private readonly db: UserDb,
    private readonly turns: ChatTurnService,
  ) {}

  @Get('sessions')
  @ApiOperation({ summary: "The caller's chat sessions, most recently active first" })
  @ApiQueryFrom(pageQuerySchema)
  @ApiOkResponse({
    schema: jsonSchema(
      z.object({ data: z.array(chatSessionViewSchema), next_cursor: z.string().nullable() }),
      'output',
    ),
  })
  list(
    @Query(new ZodValidationPipe(pageQuerySchema, 'query')) q: PageQuery,
    @Req() req: FastifyRequest,
  ): Promise<{ data: ChatSessionView[]; next_cursor: string | null }> {
    return this.db.run(req, async (r) => {
      const page = await r.chat.sessionsPage(q);
      return { data: page.data.map(sessionView), next_cursor: page.next_cursor };
    });
  }

  @Get('sessions/:id/messages')
  @ApiOperation({ summary: 'Messages of one of the caller’s sessions, oldest first' })
  @ApiQueryFrom(pageQuerySchema)
  @ApiOkResponse({
    schema: jsonSchema(
      z.object({ data: z.array(chatMessageViewSchema), next_cursor: z.string().nullable() }),
      'output',
    ),
  })
  messages(
    @Param(sessionPipe) p: { id: string },
    @Query(new ZodValidationPipe(pageQuerySchema, 'query')) q: PageQuery,
    @Req() req: FastifyRequest,
  ): Promise<{ data: ChatMessageView[]; next_cursor: string | null }> {
    return this.db.run(req, async (r) => {
      const page = await r.chat.messagesPage(p.id, q);
      return { data: page.data.map(messageView), next_cursor: page.next_cursor };
    });
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Deletes one of the caller’s sessions and its messages' })
  async remove(@Param(sessionPipe) p: { id: string }, @Req() req: FastifyRequest): Promise<void> {
    await this.db.run(req, (r) => r.chat.deleteSession(p.id));
  }

  @Post('chat/:message_id/cancel')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancels the caller’s chat message (by X-Message-Id on any replica, or client_message_id)',
  })
  async cancel(
    @Param(new ZodValidationPipe(cancelParamSchema, 'path')) p: { message_id: string },
    @Req() req: FastifyRequest,
  ): Promise<{ message_id: string; status: 'cancelling' }> {
    const userId = req.principal?.user_id;
    if (!userId) {
      throw new ProblemException(401, ErrorCode.Unauthorized, 'Authentication is required.');
    }
    // Someone else's or unknown: 404, all the same to the caller.
    await this.turns.cancel(userId, p.message_id);
    return { message_id: p.message_id, status: 'cancelling' };
  }
}
