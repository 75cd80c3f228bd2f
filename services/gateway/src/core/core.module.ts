import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DatabaseLifecycle } from '@neonpro/database';
import { databaseProvider } from '../database/database.providers.js';
import { GATEWAY_CONFIG, type GatewayRuntimeConfig } from '../gateway.config.js';
import { NatsConnectionService } from '../nats/nats-connection.service.js';
import { RedisConnections } from '../redis/redis-connections.service.js';

/**
 * The validated config and the connections every feature uses: Postgres, NATS and Redis. Global,
 * so feature modules declare only their feature dependencies.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: GatewayRuntimeConfig): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        databaseProvider,
        DatabaseLifecycle,
        NatsConnectionService,
        RedisConnections,
      ],
      exports: [GATEWAY_CONFIG, databaseProvider, NatsConnectionService, RedisConnections],
    };
  }
}
