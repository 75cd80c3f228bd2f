import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EdgeModule } from '../edge/edge.module.js';
import { HealthcareModule } from '../healthcare/healthcare.module.js';
import { GatewayOpsModule } from '../ops/ops.module.js';
import { AgentClient } from './agent-client.service.js';
import { ChatController } from './chat.controller.js';
import { ChatTurnService } from './chat-turn.service.js';
import { RunningChats } from './running-chats.service.js';
import { SessionsController } from './sessions.controller.js';

/** Chat over REST and SSE (/v1/ai/chat, sessions), relayed to the agents over NATS. */
@Module({
  imports: [AuthModule, EdgeModule, GatewayOpsModule, HealthcareModule],
  controllers: [ChatController, SessionsController],
  providers: [AgentClient, RunningChats, ChatTurnService],
  exports: [AgentClient, ChatTurnService],
})
export class ChatModule {}
