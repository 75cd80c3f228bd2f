import { type DynamicModule, Module, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from './rate-limit/throttler.js';
import { DatabaseLifecycle } from '@neonpro/database';
import { httpLoggerParams, OpsModule } from '@neonpro/observability';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AuthController } from './auth/auth.controller.js';
import { Authenticator, tokenVerifierProvider } from './auth/authenticator.service.js';
import { JwtAuthGuard } from './auth/jwt-auth.guard.js';
import { PrincipalResolverGuard } from './auth/principal-resolver.guard.js';
import { MembershipService } from './auth/membership.service.js';
import { SupabaseAuthService } from './auth/supabase-auth.service.js';
import { AgentClient } from './chat/agent-client.service.js';
import { ChatController } from './chat/chat.controller.js';
import { ChatTurnService } from './chat/chat-turn.service.js';
import { RunningChats } from './chat/running-chats.service.js';
import { SessionsController } from './chat/sessions.controller.js';
import { ProblemFilter } from './common/problem.filter.js';
import { databaseProvider } from './database/database.providers.js';
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
import { AuthAttemptLimiter } from './rate-limit/auth-attempt-limiter.service.js';
import { namedThrottlers, RateLimitGuard } from './rate-limit/rate-limit.guard.js';
import { RateLimitService, tierLimits } from './rate-limit/rate-limit.service.js';
import { ChatRunService } from './realtime/chat-run.service.js';
import { ChatGateway } from './realtime/chat.gateway.js';
import { RealtimeRegistry } from './realtime/realtime-registry.service.js';
import { policyRegistryProvider } from './resilience/gateway-policies.js';

/** Extra pieces for tests (test-only controllers/providers); production passes nothing. */
export interface GatewayModuleExtras {
  controllers?: Type[];
  providers?: Provider[];
  /** Global guards that must run before the rate limiter (e.g. authentication setting request.principal). */
  guardsBeforeRateLimit?: Type[];
}

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayRuntimeConfig, logger: Logger, extras: GatewayModuleExtras = {}): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        LoggerModule.forRoot(httpLoggerParams(logger)),
        // With METRICS_PORT set, /metrics lives on its own listener (app.ts), not on the API port.
        OpsModule.forRoot('gateway', config.instanceId, { metricsRoute: config.METRICS_PORT === 0 }),
        // Counters live in RateLimitService (Redis or memory); the guard never uses the default storage.
        ThrottlerModule.forRoot({ throttlers: namedThrottlers(tierLimits(config)), setHeaders: false }),
      ],
      controllers: [
        ChatController,
        SessionsController,
        AuthController,
        PatientsController,
        ConsentsController,
        ProfessionalsController,
        AppointmentsController,
        AuditController,
        ...(extras.controllers ?? []),
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ProblemFilter },
        // An authentication guard must be registered as APP_GUARD *before* this one so that
        // request.principal (the per-user tracker) is set when limits are counted.
        { provide: APP_GUARD, useClass: PrincipalResolverGuard },
        ...(extras.guardsBeforeRateLimit ?? []).map((g) => ({ provide: APP_GUARD, useClass: g })),
        { provide: APP_GUARD, useClass: RateLimitGuard },
        GatewayMetrics,
        RateLimitService,
        AuthAttemptLimiter,
        policyRegistryProvider,
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
        RunningChats,
        ChatTurnService,
        RealtimeRegistry,
        ChatRunService,
        ChatGateway,
        ...(extras.providers ?? []),
      ],
      exports: [RateLimitService, AuthAttemptLimiter, policyRegistryProvider],
    };
  }
}
