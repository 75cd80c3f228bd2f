import { type DynamicModule, Module, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { httpLoggerParams, OpsModule } from '@neonpro/observability';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AuthModule } from './auth/auth.module.js';
import { PrincipalResolverGuard } from './auth/principal-resolver.guard.js';
import { ChatModule } from './chat/chat.module.js';
import { ProblemFilter } from './common/problem.filter.js';
import { CoreModule } from './core/core.module.js';
import { EdgeModule } from './edge/edge.module.js';
import type { GatewayRuntimeConfig } from './gateway.config.js';
import { HealthcareModule } from './healthcare/healthcare.module.js';
import { GatewayOpsModule } from './ops/ops.module.js';
import { namedThrottlers, RateLimitGuard } from './rate-limit/rate-limit.guard.js';
import { tierLimits } from './rate-limit/rate-limit.service.js';
import { ThrottlerModule } from './rate-limit/throttler.js';
import { RealtimeModule } from './realtime/realtime.module.js';

/** Extra pieces for tests (test-only controllers/providers); production passes nothing. */
export interface GatewayModuleExtras {
  controllers?: Type[];
  providers?: Provider[];
  /** Global guards that must run before the rate limiter (e.g. authentication setting request.principal). */
  guardsBeforeRateLimit?: Type[];
}

/**
 * The root: the feature modules (see the module map in CONTRIBUTING.md) and the global filter and
 * guards, in the order they must run.
 */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayRuntimeConfig, logger: Logger, extras: GatewayModuleExtras = {}): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        // The logger for Nest and PinoLogger only: the request line is written by the gateway's own
        // onResponse hook (app.ts). nestjs-pino's pino-http middleware never ran under Nest 12 +
        // Fastify (its `{/*splat}` route matched nothing, so no request was logged); routed
        // explicitly to nothing, it cannot come back as a second, costlier request line.
        LoggerModule.forRoot(httpLoggerParams(logger, { forRoutes: [] })),
        // With METRICS_PORT set, /metrics lives on its own listener (app.ts), not on the API port.
        OpsModule.forRoot('gateway', config.instanceId, { metricsRoute: config.METRICS_PORT === 0 }),
        CoreModule.forRoot(config),
        // Counters live in RateLimitService (Redis or memory); the guard never uses the default storage.
        ThrottlerModule.forRoot({ throttlers: namedThrottlers(tierLimits(config)), setHeaders: false }),
        GatewayOpsModule,
        EdgeModule,
        AuthModule,
        HealthcareModule,
        ChatModule,
        RealtimeModule,
      ],
      controllers: extras.controllers ?? [],
      providers: [
        { provide: APP_FILTER, useClass: ProblemFilter },
        // An authentication guard must be registered as APP_GUARD *before* this one so that
        // request.principal (the per-user tracker) is set when limits are counted.
        { provide: APP_GUARD, useClass: PrincipalResolverGuard },
        ...(extras.guardsBeforeRateLimit ?? []).map((g) => ({ provide: APP_GUARD, useClass: g })),
        { provide: APP_GUARD, useClass: RateLimitGuard },
        ...(extras.providers ?? []),
      ],
    };
  }
}
