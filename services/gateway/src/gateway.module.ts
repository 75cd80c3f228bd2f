import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { httpLoggerParams, OpsModule } from '@neonpro/observability';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AuthController } from './auth/auth.controller.js';
import { Authenticator, tokenVerifierProvider } from './auth/authenticator.service.js';
import { JwtAuthGuard } from './auth/jwt-auth.guard.js';
import { MembershipService } from './auth/membership.service.js';
import { SupabaseAuthService } from './auth/supabase-auth.service.js';
import { AgentClient } from './chat/agent-client.service.js';
import { ChatController } from './chat/chat.controller.js';
import { ProblemFilter } from './common/problem.filter.js';
import { DatabaseLifecycle, databaseProvider } from './database/database.providers.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from './gateway.config.js';
import { AppointmentsController } from './healthcare/appointments.controller.js';
import { AuditController } from './healthcare/audit.controller.js';
import { ConsentsController } from './healthcare/consents.controller.js';
import { PatientsController } from './healthcare/patients.controller.js';
import { ProfessionalsController } from './healthcare/professionals.controller.js';
import { UserDb } from './healthcare/user-db.service.js';
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
      controllers: [
        ChatController,
        AuthController,
        PatientsController,
        ConsentsController,
        ProfessionalsController,
        AppointmentsController,
        AuditController,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ProblemFilter },
        GatewayMetrics,
        NatsConnectionService,
        AgentClient,
        StreamTracker,
        GatewayLifecycle,
        databaseProvider,
        DatabaseLifecycle,
        tokenVerifierProvider,
        MembershipService,
        Authenticator,
        JwtAuthGuard,
        SupabaseAuthService,
        UserDb,
      ],
    };
  }
}
