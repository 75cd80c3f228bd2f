import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { httpLoggerParams, OpsModule } from '@neonpro/observability';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AgentClient } from './chat/agent-client.service.js';
import { ChatController } from './chat/chat.controller.js';
import { ProblemFilter } from './common/problem.filter.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from './gateway.config.js';
import { GatewayLifecycle } from './lifecycle/gateway-lifecycle.service.js';
import { StreamTracker } from './lifecycle/stream-tracker.service.js';
import { GatewayMetrics } from './metrics/gateway-metrics.service.js';
import { NatsConnectionService } from './nats/nats-connection.service.js';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayRuntimeConfig, logger: Logger): DynamicModule {
    return {
      module: GatewayModule,
      imports: [LoggerModule.forRoot(httpLoggerParams(logger)), OpsModule.forRoot('gateway', config.instanceId)],
      controllers: [ChatController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ProblemFilter },
        GatewayMetrics,
        NatsConnectionService,
        AgentClient,
        StreamTracker,
        GatewayLifecycle,
      ],
    };
  }
}
