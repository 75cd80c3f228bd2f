import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ChatModule } from '../chat/chat.module.js';
import { EdgeModule } from '../edge/edge.module.js';
import { GatewayOpsModule } from '../ops/ops.module.js';
import { ChatRunService } from './chat-run.service.js';
import { ChatGateway } from './chat.gateway.js';
import { RealtimeRegistry } from './realtime-registry.service.js';

/** Realtime chat on Socket.IO (namespace /chat); the adapter is installed by app.ts. */
@Module({
  imports: [AuthModule, ChatModule, EdgeModule, GatewayOpsModule],
  providers: [RealtimeRegistry, ChatRunService, ChatGateway],
})
export class RealtimeModule {}
